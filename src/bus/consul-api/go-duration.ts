// Go duration text in milliseconds, as the API handles it (the bus's parser speaks nanoseconds).
import { formatGoDuration, parseGoDuration } from '../go-duration.js';

/** Parses Go duration text ("10s", "1m30s") to milliseconds; throws an Error worded as Go's (`time: invalid duration "x"`). */
export function parseDurationMs(text: string): number {
  const parsed = parseGoDuration(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.ns / 1e6;
}

/** Formats milliseconds as Go's Duration.String() does ("10s", "1m0s", "250ms"). */
export function formatDurationMs(ms: number): string {
  return formatGoDuration(Math.round(ms * 1e6));
}
