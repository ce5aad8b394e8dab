// The daemon's side of the proxy workers: forks them, hands them the listening sockets and every routing state,
// asks them to drain and for their counters, and starts a new one when one dies.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Server as NetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../log/index.js';
import type { CoreOptions, RawInstanceStats } from './core.js';
import type { ListenerSpec } from './listener-kinds.js';
import type { RoutingState } from './routing-state.js';
import type { AccessEntry } from './types.js';
import type { FromWorker, ToWorker } from './worker-main.js';

const log = createLogger('frontdoor');
const WORKER_MAIN = fileURLToPath(new URL('./worker-main.js', import.meta.url));
/** How long to wait for a worker to let go of a listening socket. */
const UNLISTEN_TIMEOUT_MS = 2000;
/** How long a worker may take to answer a stats request before it is left out. */
const STATS_TIMEOUT_MS = 1000;

/** Proxy workers sharing the daemon's listeners. */
export interface WorkerPool {
  readonly size: number;
  /** PIDs of the live workers. */
  pids(): number[];
  broadcast(state: RoutingState): void;
  /** Serves one more listener in every worker (and in workers started later). */
  listen(spec: ListenerSpec, server: NetServer): void;
  /** Stops every worker listening on `id`; resolves when each has let go of the socket (or a timeout passed). */
  unlisten(id: string): Promise<void>;
  /** Resolves when every worker has nothing in flight to the instance (or the timeout passed). */
  drain(id: string, timeoutMs: number): Promise<void>;
  stats(): Promise<RawInstanceStats[][]>;
  close(): Promise<void>;
}

interface Worker {
  child: ChildProcess;
  pending: Map<number, (m: FromWorker) => void>;
}

/** Forks `count` workers; each serves every listener in `listeners`. */
export function startWorkerPool(opts: {
  count: number;
  options: CoreOptions;
  listeners: Array<{ spec: ListenerSpec; server: NetServer }>;
  /** The project's state directory, for the TLS CA (https listeners). */
  stateDir?: string;
  current: () => RoutingState;
  onAccess?: (entry: AccessEntry) => void;
  /** A worker died and is being replaced. */
  onCrash?: (message: string) => void;
  /** The project's id, in each worker's environment as MR_PROJECT_ID (what the watchdog and sweeps look for). */
  projectId?: string;
}): WorkerPool {
  const workers = new Set<Worker>();
  let nextReq = 1;
  let closing = false;
  let restarts = 0;

  const post = (w: Worker, m: ToWorker, server?: NetServer): void => {
    if (!w.child.connected) return;
    try {
      if (server) {
        // The listening socket goes as its native handle: sent as a net.Server, node would make the child listen on
        // it at once with a server of its own that has no listener, and connections accepted in that moment hang.
        const handle = (server as unknown as { _handle?: object | null })._handle;
        if (handle) w.child.send(m, handle as NetServer);
      } else w.child.send(m);
    } catch (err) {
      log.debug(`worker ${w.child.pid}: send failed: ${String(err)}`);
    }
  };

  const request = (w: Worker, make: (req: number) => ToWorker, timeoutMs: number): Promise<FromWorker | undefined> =>
    new Promise((resolve) => {
      if (!w.child.connected) return resolve(undefined);
      const req = nextReq++;
      const timer = setTimeout(() => {
        w.pending.delete(req);
        resolve(undefined);
      }, timeoutMs);
      timer.unref();
      w.pending.set(req, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      post(w, make(req));
    });

  const spawn = (): void => {
    const child = fork(WORKER_MAIN, ['machineroom-frontdoor'], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group: a terminal's Ctrl-C or hang-up is the daemon's to act on, not the worker's (a worker
      // still booting could not ignore it yet). It leaves when the daemon's channel closes; the project id in its
      // environment lets the watchdog and the next sweep find it should it ever hang.
      detached: true,
      env: { ...process.env, ...(opts.projectId ? { MR_PROJECT_ID: opts.projectId } : {}) },
    });
    const w: Worker = { child, pending: new Map() };
    workers.add(w);
    child.on('message', (m: FromWorker) => {
      if (m.t === 'access') opts.onAccess?.(m.entry);
      else if (m.t === 'drained' || m.t === 'stats' || m.t === 'unlistened') {
        const waiter = w.pending.get(m.req);
        w.pending.delete(m.req);
        waiter?.(m);
      } else if (m.t === 'listen-failed') log.warn(`front door worker ${child.pid}: listener ${m.id}: ${m.error}`);
    });
    // A message still on its way when the pool closes fails with EPIPE/EINVAL: expected then, not worth a warning.
    child.on('error', (err) => {
      if (closing) log.debug(`front door worker ${child.pid}: ${err.message}`);
      else log.warn(`front door worker ${child.pid}: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      workers.delete(w);
      for (const waiter of w.pending.values()) waiter({ t: 'drained', req: 0, idle: true });
      w.pending.clear();
      if (closing) return;
      restarts++;
      const message = `front door worker ${child.pid} exited (${signal ?? `code ${code}`}); starting another`;
      log.warn(message);
      opts.onCrash?.(message);
      const timer = setTimeout(() => {
        if (!closing) spawn();
      }, Math.min(30_000, 250 * 2 ** Math.min(restarts, 7)));
      timer.unref();
    });
    post(w, { t: 'init', options: opts.options, ...(opts.stateDir ? { stateDir: opts.stateDir } : {}) });
    post(w, { t: 'state', state: opts.current() });
    for (const l of opts.listeners) post(w, { t: 'listen', spec: l.spec }, l.server);
  };

  for (let i = 0; i < opts.count; i++) spawn();

  return {
    get size() {
      return workers.size;
    },
    pids: () => [...workers].flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid])),
    broadcast(state) {
      for (const w of workers) post(w, { t: 'state', state });
    },
    listen(spec, server) {
      opts.listeners.push({ spec, server });
      for (const w of workers) post(w, { t: 'listen', spec }, server);
    },
    async unlisten(id) {
      const at = opts.listeners.findIndex((l) => l.spec.id === id);
      if (at >= 0) opts.listeners.splice(at, 1);
      await Promise.all([...workers].map((w) => request(w, (req) => ({ t: 'unlisten', id, req }), UNLISTEN_TIMEOUT_MS)));
    },
    async drain(id, timeoutMs) {
      await Promise.all([...workers].map((w) => request(w, (req) => ({ t: 'drain', req, id, timeoutMs }), timeoutMs + 1000)));
    },
    async stats() {
      const answers = await Promise.all([...workers].map((w) => request(w, (req) => ({ t: 'stats', req }), STATS_TIMEOUT_MS)));
      return answers.flatMap((m) => (m && m.t === 'stats' ? [m.stats] : []));
    },
    async close() {
      closing = true;
      await Promise.all(
        [...workers].map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
              const timer = setTimeout(() => w.child.kill('SIGKILL'), 2000);
              w.child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              post(w, { t: 'close' });
              if (!w.child.connected) w.child.kill('SIGTERM');
            }),
        ),
      );
      workers.clear();
    },
  };
}
