// One dashboard's Server-Sent Events stream. Frames wait in a small outbox that the HTTP response drains as the socket
// takes them: snapshots (status, traffic, kv, heartbeat) keep only their latest frame, events and log lines queue up to
// OUTBOX_FRAMES and then wait in the room's own bounded follower queues, which drop (and say so) when a reader falls
// far behind. So a slow reader costs a bounded amount of memory, and a fast one gets everything in order.
import type { LogLine, MachineroomEvent } from '../supervisor/index.js';
import type { LiveState, SnapshotKind } from './live-state.js';
import { SSE_HEARTBEAT, SSE_RETRY, sseFrame } from './sse-frame.js';

/** Event and log frames held for one client before its pumps wait. */
const OUTBOX_FRAMES = 256;
/** The most bytes sent in one chunk (several small frames go out in one write). */
const CHUNK_BYTES = 64 * 1024;

/** What one stream reads from. */
export interface EventStreamSource {
  live: LiveState;
  /** The `hello` event's data. */
  hello(): Promise<unknown>;
  /** Retained events, then live ones (ends when `signal` aborts). */
  events(signal: AbortSignal): AsyncIterable<MachineroomEvent>;
  /** The last `tail` lines, then live ones (ends when `signal` aborts). */
  logs(tail: number, signal: AbortSignal): AsyncIterable<LogLine>;
}

/** A stream being served, for the server to end it on shutdown. */
export interface OpenStream {
  response: Response;
  /** Ends the stream (the client sees it close and reconnects to whoever answers next). */
  end(): void;
  /** Resolves when the stream has ended, for whatever reason. */
  ended: Promise<void>;
}

type Slot = SnapshotKind | 'heartbeat';

/** Opens a stream: `hello`, the snapshots, the retained events and the log tail, then everything live. */
export function openEventStream(source: EventStreamSource, opts: { tail: number; signal: AbortSignal; heartbeatMs?: number }): OpenStream {
  const head: string[] = [SSE_RETRY];
  const slots = new Map<Slot, string>();
  const fifo: string[] = [];
  const spaceWaiters: (() => void)[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const stop = new AbortController();
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => (resolveEnded = r));
  let leave: (() => void) | undefined;

  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const offer = (slot: Slot, frame: string): void => {
    if (finished) return;
    slots.set(slot, frame); // a newer frame takes the older one's place in line
    notify();
  };
  const put = async (frame: string): Promise<void> => {
    while (!finished && fifo.length >= OUTBOX_FRAMES) await new Promise<void>((r) => spaceWaiters.push(r));
    if (finished) return;
    fifo.push(frame);
    notify();
  };
  const take = (): string | undefined => {
    const first = head.shift();
    if (first !== undefined) return first;
    for (const [slot, frame] of slots) {
      slots.delete(slot);
      return frame;
    }
    const frame = fifo.shift();
    if (frame !== undefined) spaceWaiters.shift()?.();
    return frame;
  };
  const finish = (): void => {
    if (finished) return;
    finished = true;
    stop.abort();
    clearInterval(heartbeat);
    leave?.();
    for (const w of spaceWaiters.splice(0)) w();
    slots.clear();
    fifo.length = 0;
    notify();
    resolveEnded();
  };

  const heartbeat = setInterval(() => offer('heartbeat', SSE_HEARTBEAT), opts.heartbeatMs ?? 15_000);
  heartbeat.unref();
  if (opts.signal.aborted) finish();
  opts.signal.addEventListener('abort', finish, { once: true });

  const pump = async <T>(name: string, items: AsyncIterable<T>): Promise<void> => {
    try {
      for await (const item of items) {
        if (finished) break;
        await put(sseFrame(name, item));
      }
    } catch {
      /* the source ended with the stream */
    }
  };

  // hello first; then the snapshots; only then the event history and the log tail, so the page has the room first.
  void (async () => {
    try {
      head.push(sseFrame('hello', await source.hello()));
      notify();
      const unsubscribe = await source.live.join(offer);
      if (finished) return unsubscribe();
      leave = unsubscribe;
      void pump('event', source.events(stop.signal));
      void pump('log', source.logs(opts.tail, stop.signal));
    } catch {
      finish();
    }
  })();

  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (finished) return controller.close();
        let chunk = take();
        if (chunk !== undefined) {
          while (chunk.length < CHUNK_BYTES) {
            const next = take();
            if (next === undefined) break;
            chunk += next;
          }
          controller.enqueue(encoder.encode(chunk));
          return;
        }
        await new Promise<void>((r) => (wake = r));
      }
    },
    cancel() {
      finish();
    },
  });
  const response = new Response(body, {
    status: 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-accel-buffering': 'no' },
  });
  return { response, end: finish, ended };
}
