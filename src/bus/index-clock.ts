// The bus's one Raft-like index: every write to the catalog, health, KV or sessions takes the next value, and
// blocking queries wait on it. Shared by every store of one bus so indexes are comparable across them, as in Consul.

/** The shared index. */
export interface IndexClock {
  /** The highest index handed out (never 0). */
  current(): number;
  /** Takes the next index for a write. */
  next(): number;
  /** Moves the index forward to at least `n` (restoring from disk). */
  advanceTo(n: number): void;
  /** Wakes blocking waiters; call after a write is visible. */
  notify(): void;
  /** Resolves with the current index once it exceeds `minIndex` (after a notify), or after `timeoutMs`, or on abort. */
  waitForIndex(minIndex: number, timeoutMs: number, signal?: AbortSignal): Promise<number>;
}

/** Creates a clock starting at `start` (>= 1). */
export function createIndexClock(start = 1): IndexClock {
  let index = Math.max(1, start);
  const waiters = new Set<() => void>();
  return {
    current: () => index,
    next: () => ++index,
    advanceTo(n) {
      if (n > index) index = n;
    },
    notify() {
      for (const w of [...waiters]) w();
    },
    waitForIndex(minIndex, timeoutMs, signal) {
      if (index > minIndex || signal?.aborted) return Promise.resolve(index);
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          signal?.removeEventListener('abort', done);
          resolve(index);
        };
        const check = () => {
          if (index > minIndex) done();
        };
        const timer = setTimeout(done, timeoutMs);
        waiters.add(check);
        signal?.addEventListener('abort', done, { once: true });
      });
    },
  };
}
