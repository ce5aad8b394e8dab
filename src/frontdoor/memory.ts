// Keeps a streaming proxy's memory flat: every socket read is a fresh 64 KiB buffer that is garbage once written on,
// but V8 only collects when its heap fills, and those buffers live outside it, so a 100 MB transfer could hold tens
// of MB of dead buffers. After every few MB of body bytes a young-generation collection frees them.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Body bytes between two collections. */
const BYTES_PER_COLLECTION = 2 * 1024 * 1024;
// (Callers count the garbage they make: the upstream client counts its reads twice, for the parser's copies.)

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

let gc: GcFunction | undefined;
let pending = 0;
let scheduled = false;

function loadGc(): GcFunction | undefined {
  const existing = (globalThis as { gc?: GcFunction }).gc;
  if (existing) return existing;
  try {
    // Exposes gc in a fresh context only; the flag is set back so nothing else changes.
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as GcFunction;
    setFlagsFromString('--no-expose-gc');
    return fn;
  } catch {
    return undefined;
  }
}

/** Counts body bytes that went through; schedules a minor collection after every few MB. */
export function noteBodyBytes(n: number): void {
  pending += n;
  if (pending < BYTES_PER_COLLECTION || scheduled) return;
  scheduled = true;
  setImmediate(collect);
}

function collect(): void {
  scheduled = false;
  pending = 0;
  gc ??= loadGc();
  gc?.({ type: 'minor' });
}
