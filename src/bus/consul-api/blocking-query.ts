// Consul's blocking query loop: answer at once without ?index; else re-run the query on every change until its index
// passes ?index or ?wait runs out (then answer what there is: a return is no guarantee of change).

/** Something to block on: a mark of "now" and a wait for any change after that mark. */
export interface ChangeSource {
  mark(): number;
  waitAfter(mark: number, timeoutMs: number, signal: AbortSignal): Promise<unknown>;
}

/** One run of a query: its answer and the index it reports (X-Consul-Index). */
export interface Indexed<T> {
  index: number;
  value: T;
}

/** Runs `run` as a blocking query; `now` is the clock for the deadline (tests may pass their own). */
export async function runBlockingQuery<T>(opts: {
  minIndex: number;
  waitMs: number;
  signal: AbortSignal;
  source: ChangeSource;
  now: () => number;
  run: () => Indexed<T>;
}): Promise<Indexed<T>> {
  const deadline = opts.now() + opts.waitMs;
  for (;;) {
    const mark = opts.source.mark();
    const result = opts.run();
    if (opts.minIndex === 0 || result.index > opts.minIndex || opts.signal.aborted) return result;
    const left = deadline - opts.now();
    if (left <= 0) return result;
    await opts.source.waitAfter(mark, left, opts.signal);
  }
}

/** A change source for events outside the index clock (user events): a counter and its waiters. */
export interface Notifier extends ChangeSource {
  bump(): void;
  close(): void;
}

/** Creates a counter-based change source. */
export function createNotifier(): Notifier {
  let counter = 0;
  const waiters = new Set<() => void>();
  return {
    mark: () => counter,
    bump() {
      counter += 1;
      for (const w of [...waiters]) w();
    },
    waitAfter(mark, timeoutMs, signal) {
      if (counter > mark || signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        waiters.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    },
    close() {
      for (const w of [...waiters]) w();
    },
  };
}
