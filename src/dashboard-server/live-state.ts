// The stream's shared snapshots — status, traffic, KV — computed once for every connected dashboard and only while one
// is connected. Status follows change signals (the bus's catalog and health writes, the supervisor's events) with a
// recheck each second for state changes that raise neither; KV follows the bus index (the blocking-query wait). Both
// are coalesced to at most one frame per 100 ms; traffic is sampled every second.
import { createLogger } from '../log/index.js';
import { sseFrame } from './sse-frame.js';

const log = createLogger('dashboard');

/** The snapshot kinds, in the order a new client gets them. */
export type SnapshotKind = 'status' | 'traffic' | 'kv';

/** Where the snapshots come from. */
export interface LiveStateDeps {
  status(): Promise<unknown>;
  traffic(): Promise<unknown>;
  /** The KV store as the stream shows it. */
  kvSnapshot(): unknown;
  /** The KV table's index (changes on every KV write and delete). */
  kvIndex(): number;
  /** The bus index, and its blocking wait (resolves once it passes `minIndex`, after `timeoutMs`, or on abort). */
  busIndex(): number;
  waitForIndex(minIndex: number, timeoutMs: number, signal: AbortSignal): Promise<number>;
  /** Registers a listener for "status may have changed"; returns the unsubscribe. */
  onStatusSignal(listener: () => void): () => void;
  /** Coalescing window (ms); 100 unless a test says otherwise. */
  coalesceMs?: number;
  /** Traffic sampling (and status recheck) period (ms); 1000 unless a test says otherwise. */
  sampleMs?: number;
}

/** A subscriber's callback: a snapshot kind and its SSE frame. */
export type SnapshotListener = (kind: SnapshotKind, frame: string) => void;

/** The shared snapshots. */
export interface LiveState {
  /** Delivers the current frames (computed first when nobody was connected), then every new one; resolves to the unsubscribe. */
  join(listener: SnapshotListener): Promise<() => void>;
  /** Stops every watch; later joins get nothing. Safe to call twice. */
  close(): void;
}

/** A throttled async job: runs at once when idle for `windowMs`, else once at the end of the window, never overlapping. */
function createThrottle(windowMs: number, job: () => Promise<void>) {
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  const run = async (): Promise<void> => {
    timer = undefined;
    running = true;
    last = Date.now();
    try {
      await job();
    } catch (err) {
      log.debug(`snapshot failed: ${String(err)}`);
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      request();
    }
  };
  const request = (): void => {
    if (running) {
      again = true;
      return;
    }
    if (timer) return;
    timer = setTimeout(() => void run(), Math.max(0, last + windowMs - Date.now()));
    timer.unref();
  };
  return {
    request,
    cancel(): void {
      clearTimeout(timer);
      timer = undefined;
      again = false;
    },
  };
}

/** Creates the shared snapshots; nothing runs until the first join. */
export function createLiveState(deps: LiveStateDeps): LiveState {
  const coalesceMs = deps.coalesceMs ?? 100;
  const sampleMs = deps.sampleMs ?? 1000;
  const listeners = new Set<SnapshotListener>();
  const frames = new Map<SnapshotKind, string>();
  let closed = false;
  /** The running watches, while anyone is connected. */
  let active: { stop: () => void; ready: Promise<void> } | undefined;

  const publish = (kind: SnapshotKind, frame: string): void => {
    frames.set(kind, frame);
    for (const l of [...listeners]) l(kind, frame);
  };

  const start = (): { stop: () => void; ready: Promise<void> } => {
    // Frames computed for a watch that has since stopped (everyone left) are dropped.
    let live = true;
    const refreshStatus = async (): Promise<void> => {
      const frame = sseFrame('status', await deps.status());
      if (live && frame !== frames.get('status')) publish('status', frame);
    };
    const refreshTraffic = async (): Promise<void> => {
      const frame = sseFrame('traffic', await deps.traffic());
      if (live) publish('traffic', frame);
    };
    const refreshKv = async (): Promise<void> => {
      const frame = sseFrame('kv', deps.kvSnapshot());
      if (live && frame !== frames.get('kv')) publish('kv', frame);
    };
    const status = createThrottle(coalesceMs, refreshStatus);
    const kv = createThrottle(coalesceMs, refreshKv);
    const unsubscribe = deps.onStatusSignal(() => status.request());
    // Traffic every sample; the status recheck rides along (a transition that raised no signal shows within a second).
    const sampler = setInterval(() => {
      void refreshTraffic().catch((err: unknown) => log.debug(`traffic sample failed: ${String(err)}`));
      status.request();
    }, sampleMs);
    sampler.unref();
    const abort = new AbortController();
    // The KV watch: a blocking wait on the bus index; a wake-up that left the KV table's index alone changes nothing.
    void (async () => {
      let seen = deps.kvIndex();
      while (!abort.signal.aborted) {
        const at = deps.busIndex();
        const now = deps.kvIndex();
        if (now !== seen) {
          seen = now;
          kv.request();
        }
        await deps.waitForIndex(at, 60_000, abort.signal);
      }
    })().catch((err: unknown) => log.warn(`the dashboard's KV watch stopped: ${String(err)}`));
    const ready = Promise.allSettled([refreshStatus(), refreshTraffic(), refreshKv()]).then((results) => {
      for (const r of results) if (r.status === 'rejected') log.warn(`a first dashboard snapshot failed: ${String(r.reason)}`);
    });
    return {
      ready,
      stop() {
        live = false;
        unsubscribe();
        clearInterval(sampler);
        abort.abort();
        status.cancel();
        kv.cancel();
        frames.clear();
      },
    };
  };

  return {
    async join(listener) {
      if (closed) return () => undefined;
      active ??= start();
      const mine = active;
      await mine.ready;
      if (closed || active !== mine) return () => undefined;
      for (const kind of ['status', 'traffic', 'kv'] as const) {
        const frame = frames.get(kind);
        if (frame !== undefined) listener(kind, frame);
      }
      listeners.add(listener);
      return () => {
        if (!listeners.delete(listener)) return;
        if (listeners.size === 0 && active === mine) {
          active = undefined;
          mine.stop();
        }
      };
    },
    close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      active?.stop();
      active = undefined;
    },
  };
}
