// A bounded push→pull queue for live streams: a slow reader loses items (counted) instead of growing the daemon's memory.

/** A queue that is also an async iterable. */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(item: T): void;
  end(): void;
  /** Items dropped because the reader fell behind. */
  readonly dropped: number;
}

/** Creates a queue holding at most `max` items; `onDrop` can turn a drop count into an item to deliver when the reader catches up. */
export function createAsyncQueue<T>(max = 10_000, onDrop?: (count: number) => T, signal?: AbortSignal): AsyncQueue<T> {
  const items: T[] = [];
  let pendingDrops = 0;
  let dropped = 0;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  if (signal?.aborted) ended = true;
  signal?.addEventListener('abort', () => {
    ended = true;
    notify();
  });
  return {
    get dropped() {
      return dropped;
    },
    push(item) {
      if (ended) return;
      if (items.length >= max) {
        pendingDrops += 1;
        dropped += 1;
        return;
      }
      if (pendingDrops > 0 && onDrop) {
        items.push(onDrop(pendingDrops));
        pendingDrops = 0;
      }
      items.push(item);
      notify();
    },
    end() {
      ended = true;
      notify();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (items.length > 0) yield items.shift() as T;
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}
