// The machine room as the page knows it, kept current by the daemon's Server-Sent Events stream
// (GET /v1/machineroom/stream: hello, status, traffic, event, log, kv). Nothing polls.
import { createStore } from '../lib/store.js';
import type { Store } from '../lib/store.js';
import { setUnauthorizedHandler } from '../api/client.js';
import type { DaemonInfoView, EventView, HelloView, KvSnapshotView, LogLineView, RoomStatusView, TrafficView } from '../api/wire.js';
import { EMPTY_RATES, computeRates } from './rates.js';
import type { Rates } from './rates.js';

/** A log line with a stable key for rendering. */
export interface LogRow extends LogLineView {
  id: number;
}

/** Whether the page hears from the daemon. */
export type Connection = 'connecting' | 'live' | 'reconnecting';

/** Everything the views read. */
export interface RoomState {
  connection: Connection;
  /** When the stream was last lost (for "reconnecting for 12s"). */
  lostAt?: number;
  info?: DaemonInfoView;
  authenticated: boolean;
  status?: RoomStatusView;
  traffic?: TrafficView;
  rates: Rates;
  events: EventView[];
  logs: LogRow[];
  /** Lines dropped from the start of the buffer since the page connected. */
  logsTrimmed: number;
  kv?: KvSnapshotView;
}

/** How many log lines the page keeps (older ones are dropped first). */
export const MAX_LOG_LINES = 5000;
/** How many events the page keeps. */
export const MAX_EVENTS = 2000;
/** The stream's address; `tail` is how many recent log lines it replays at connect. */
export const STREAM_URL = '/v1/machineroom/stream?tail=1000';

/** The room's store, empty until the stream's first message. */
export function createRoomStore(): Store<RoomState> {
  return createStore<RoomState>({ connection: 'connecting', authenticated: false, rates: EMPTY_RATES, events: [], logs: [], logsTrimmed: 0 });
}

/** Connects `store` to the stream; returns a function that disconnects. Reconnects by itself (EventSource's retry). */
export function connectRoom(store: Store<RoomState>, url = STREAM_URL): () => void {
  let source: EventSource | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let nextId = 1;
  let pending: LogRow[] = [];
  let flushScheduled = false;
  let lastTraffic: { sample: TrafficView; at: number } | undefined;

  setUnauthorizedHandler(() => store.set({ authenticated: false }));

  // Log lines arrive in bursts (a replay of 1000, a chatty instance): they are applied once per frame.
  const flush = () => {
    flushScheduled = false;
    if (pending.length === 0) return;
    const { logs, logsTrimmed } = store.get();
    const all = logs.concat(pending);
    pending = [];
    const over = Math.max(0, all.length - MAX_LOG_LINES);
    store.set({ logs: over ? all.slice(over) : all, logsTrimmed: logsTrimmed + over });
  };
  const scheduleFlush = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    if (document.hidden) setTimeout(flush, 250);
    else requestAnimationFrame(flush);
  };

  const on = <T>(es: EventSource, name: string, fn: (data: T) => void) =>
    es.addEventListener(name, (e) => {
      let data: T;
      try {
        data = JSON.parse((e as MessageEvent<string>).data) as T;
      } catch {
        return; // a malformed message is dropped, not fatal
      }
      fn(data);
    });

  const open = () => {
    if (closed) return;
    const es = new EventSource(url); // same origin: the session cookie goes along
    source = es;
    on<HelloView>(es, 'hello', (h) => {
      // A (re)connection replays the history and the recent lines: start again from them.
      pending = [];
      lastTraffic = undefined;
      store.set({ lostAt: undefined, connection: 'live', info: h.info, authenticated: h.authenticated, events: [], logs: [], logsTrimmed: 0, rates: EMPTY_RATES });
    });
    on<RoomStatusView>(es, 'status', (status) => {
      store.set({ status, info: status.info });
      if (!performance.getEntriesByName('mr:first-status').length) performance.mark('mr:first-status');
    });
    on<TrafficView>(es, 'traffic', (traffic) => {
      const at = performance.now();
      const rates = computeRates(lastTraffic?.sample, lastTraffic?.at ?? at, traffic, at, store.get().rates);
      lastTraffic = { sample: traffic, at };
      store.set({ traffic, rates });
    });
    on<EventView>(es, 'event', (ev) => {
      const events = store.get().events;
      if (events.length && events[events.length - 1]!.seq >= ev.seq) return; // already have it
      const next = events.length >= MAX_EVENTS ? events.slice(events.length - MAX_EVENTS + 1) : events.slice();
      next.push(ev);
      store.set({ events: next });
    });
    on<LogLineView>(es, 'log', (line) => {
      pending.push({ ...line, id: nextId++ });
      if (pending.length > MAX_LOG_LINES) pending.splice(0, pending.length - MAX_LOG_LINES);
      scheduleFlush();
    });
    on<KvSnapshotView>(es, 'kv', (kv) => store.set({ kv }));
    es.onerror = () => {
      if (closed) return;
      const s = store.get();
      store.set({ connection: s.connection === 'connecting' ? 'connecting' : 'reconnecting', lostAt: s.lostAt ?? Date.now() });
      // EventSource retries by itself unless the answer was not a stream (a 4xx/5xx): then we retry.
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        retry = setTimeout(open, 2000);
      }
    };
  };
  open();
  return () => {
    closed = true;
    if (retry) clearTimeout(retry);
    source?.close();
  };
}
