// The daemon side of the dashboard, composed: /ui (files and login), and the control-API routes the page uses —
// session, the live stream, KV with check-and-set. The daemon mounts the routes in its control API, which applies the
// Host/Origin checks and the token-or-session rule before they run.
import { MachineroomError } from '../errors/index.js';
import type { BusStore, KvStore } from '../bus/index.js';
import type { MachineRoom } from '../client/index.js';
import type { EventLog } from '../supervisor/index.js';
import { createKvRoutes } from './kv-endpoints.js';
import { toEntryView } from './kv-entry-view.js';
import type { KvSnapshot } from './kv-entry-view.js';
import { jsonResponse } from './json-response.js';
import { createLiveState } from './live-state.js';
import { openEventStream } from './event-stream.js';
import type { OpenStream } from './event-stream.js';
import { createUiHandler } from './serve-ui.js';
import { hasSession, sessionValue } from './session.js';

/** The log lines a new stream gets when it asks for no `tail`. */
const DEFAULT_TAIL = 1000;
/** The most a stream may ask for (the log hub keeps about that much per instance anyway). */
const MAX_TAIL = 10_000;

/** What the dashboard reads and writes. */
export interface DashboardServerDeps {
  room: Pick<MachineRoom, 'info' | 'status' | 'traffic' | 'logs' | 'events'>;
  /** The control token (the login trades it for the session cookie). */
  token: string;
  version: string;
  kv: KvStore;
  /** The bus's catalog and health (its writes signal status changes) and its index (KV changes are waited for on it). */
  store: Pick<BusStore, 'index' | 'waitForIndex' | 'subscribe'>;
  /** The supervisor's events (every instance transition it reports signals a status change). */
  events: Pick<EventLog, 'subscribe'>;
  /** The KV prefixes whose values are secret (they follow the applied config). */
  secrets: () => readonly string[];
  /** The built dashboard (dist/dashboard). */
  dir: string;
  /** Test knobs: coalescing window, sampling period and heartbeat period in ms. */
  timing?: { coalesceMs?: number; sampleMs?: number; heartbeatMs?: number };
}

/** A control-API route of the dashboard: whether it needs the token or the session, and its handler. */
export interface DashboardRoute {
  auth: boolean;
  handle(req: Request, url: URL, rest: string[], authenticated: boolean): Promise<Response>;
}

/** The dashboard's server side. */
export interface DashboardServer {
  /** GET /ui, /ui/…, /ui/login. */
  handleUi(req: Request): Promise<Response>;
  /** Whether a request carries this daemon's session cookie. */
  hasSession(req: Request): boolean;
  /** Routes under /v1/machineroom/, by "METHOD name". */
  routes: Record<string, DashboardRoute>;
  /** Ends every open stream and stops the watches; safe to call twice. */
  close(): void;
}

function tailOf(url: URL): number {
  const raw = url.searchParams.get('tail');
  if (raw === null || raw === '') return DEFAULT_TAIL;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new MachineroomError('ERR_BAD_REQUEST', `tail: expected a whole number of log lines >= 0, got "${raw}"`);
  return Math.min(n, MAX_TAIL);
}

/** Creates the dashboard's server side over the daemon's parts. */
export function createDashboardServer(deps: DashboardServerDeps): DashboardServer {
  const session = sessionValue(deps.token);
  const streams = new Set<OpenStream>();
  let closed = false;
  const live = createLiveState({
    status: () => deps.room.status(),
    traffic: () => deps.room.traffic(),
    kvSnapshot: (): KvSnapshot => {
      const secrets = deps.secrets();
      return { index: deps.kv.indexOfPrefix(''), entries: deps.kv.list('').map((e) => toEntryView(e, secrets)) };
    },
    kvIndex: () => deps.kv.indexOfPrefix(''),
    busIndex: () => deps.store.index(),
    waitForIndex: (min, timeoutMs, signal) => deps.store.waitForIndex(min, timeoutMs, signal),
    onStatusSignal: (listener) => {
      const offStore = deps.store.subscribe(() => listener());
      const offEvents = deps.events.subscribe(() => listener());
      return () => {
        offStore();
        offEvents();
      };
    },
    ...(deps.timing?.coalesceMs !== undefined ? { coalesceMs: deps.timing.coalesceMs } : {}),
    ...(deps.timing?.sampleMs !== undefined ? { sampleMs: deps.timing.sampleMs } : {}),
  });
  const kv = createKvRoutes({ kv: deps.kv, secrets: deps.secrets, version: deps.version });

  const routes: Record<string, DashboardRoute> = {
    'GET session': { auth: false, handle: async (_req, _url, _rest, authenticated) => jsonResponse(200, { authenticated }, deps.version) },
    'GET stream': {
      auth: false,
      async handle(req, url, _rest, authenticated) {
        const tail = tailOf(url);
        if (closed) throw new MachineroomError('ERR_DAEMON_NOT_RUNNING', 'the daemon is shutting down');
        const stream = openEventStream(
          {
            live,
            hello: async () => ({ info: await deps.room.info(), authenticated }),
            events: (signal) => deps.room.events({ follow: true }, signal),
            logs: (n, signal) => deps.room.logs({ follow: true, tail: n }, signal),
          },
          { tail, signal: req.signal, ...(deps.timing?.heartbeatMs !== undefined ? { heartbeatMs: deps.timing.heartbeatMs } : {}) },
        );
        streams.add(stream);
        void stream.ended.then(() => streams.delete(stream));
        return stream.response;
      },
    },
    'GET kv': { auth: true, handle: (_req, _url, rest) => kv.get(rest) },
    'PUT kv': { auth: true, handle: (req, url, rest) => kv.put(req, url, rest) },
    'DELETE kv': { auth: true, handle: (_req, url, rest) => kv.delete(url, rest) },
  };

  return {
    handleUi: createUiHandler({ dir: deps.dir, token: deps.token, session }),
    hasSession: (req) => hasSession(req, session),
    routes,
    close() {
      if (closed) return;
      closed = true;
      for (const s of [...streams]) s.end();
      live.close();
    },
  };
}
