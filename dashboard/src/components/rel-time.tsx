// "12s ago", kept current, with the exact time on hover and for assistive technology.
import { formatFull, formatRelative, useNow } from '../lib/time.js';

/** A relative time for `ts` (ms since the epoch). */
export function RelTime({ ts }: { ts: number }) {
  const now = useNow();
  return (
    <time dateTime={new Date(ts).toISOString()} title={formatFull(ts)}>
      {formatRelative(ts, now)}
    </time>
  );
}
