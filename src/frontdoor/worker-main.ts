// A front door proxy worker: a child process of the daemon that serves the daemon's listening sockets (handed over
// IPC) with its own proxy core, fed routing states by the daemon. It exits when the daemon goes away.
import type { Server as NetServer } from 'node:net';
import { createFrontDoorCore } from './core.js';
import type { CoreOptions } from './core.js';
import { createListenerServer } from './listener-kinds.js';
import type { ListenerSpec, TlsContexts } from './listener-kinds.js';
import type { RoutingState } from './routing-state.js';
import type { AccessEntry } from './types.js';
import { tlsContextsFor } from './tls-contexts.js';

/** Messages from the daemon. */
export type ToWorker =
  | { t: 'init'; options: CoreOptions; stateDir?: string }
  | { t: 'listen'; spec: ListenerSpec }
  | { t: 'unlisten'; id: string; req: number }
  | { t: 'state'; state: RoutingState }
  | { t: 'drain'; req: number; id: string; timeoutMs: number }
  | { t: 'stats'; req: number }
  | { t: 'close' };

/** Messages to the daemon. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'listening'; id: string }
  | { t: 'listen-failed'; id: string; error: string }
  | { t: 'drained'; req: number; idle: boolean }
  | { t: 'unlistened'; req: number }
  | { t: 'stats'; req: number; stats: ReturnType<ReturnType<typeof createFrontDoorCore>['rawStats']> }
  | { t: 'access'; entry: AccessEntry };

const send = (m: FromWorker): void => {
  if (process.connected) process.send!(m);
};

let core: ReturnType<typeof createFrontDoorCore> | undefined;
let tls: TlsContexts | undefined;
const servers = new Map<string, NetServer>();
let pendingState: RoutingState | undefined;

function shutdown(): void {
  core?.close();
  for (const s of servers.values()) s.close();
  // Open client connections are not ours to keep the process for: the daemon has stopped routing here.
  // Exit rather than disconnect: a handle the daemon sent a moment ago may still be being acknowledged, and node's
  // channel code throws when it is torn down under that (seen when `up` was stopped right after it started).
  setTimeout(() => process.exit(0), 100).unref();
  process.exitCode = 0;
}

// Ctrl-C in the terminal of an attached `up` reaches the whole process group: the daemon decides when its workers
// stop (they go when it closes their channel), so the terminal's signals are not theirs to act on.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);

process.on('disconnect', () => {
  core?.close();
  process.exit(0);
});

// A listening socket arrives as a native handle (see worker-pool.ts), which server.listen() takes as is.
process.on('message', (m: ToWorker, handle?: NetServer) => {
  switch (m.t) {
    case 'init':
      core = createFrontDoorCore(m.options, (entry) => send({ t: 'access', entry }));
      if (m.stateDir) tls = tlsContextsFor(m.stateDir, m.options.project, () => core!.state, m.options.domain);
      if (pendingState) core.apply(pendingState);
      send({ t: 'ready' });
      return;
    case 'listen': {
      if (!core || !handle) return send({ t: 'listen-failed', id: m.spec.id, error: 'no core or no handle' });
      const spec = m.spec;
      try {
        const server = createListenerServer(spec, core, spec.kind === 'https' ? tls : undefined);
        server.listen(handle, () => send({ t: 'listening', id: spec.id }));
        servers.set(spec.id, server);
      } catch (err) {
        send({ t: 'listen-failed', id: spec.id, error: String(err) });
      }
      return;
    }
    case 'unlisten': {
      // Acknowledged once this process has let go of the listening socket: only then may the daemon hand its address
      // to someone else (a socket shared across processes stays bound until the last one closes it).
      const server = servers.get(m.id);
      servers.delete(m.id);
      if (!server) return send({ t: 'unlistened', req: m.req });
      server.close();
      setImmediate(() => send({ t: 'unlistened', req: m.req }));
      return;
    }
    case 'state':
      if (core) core.apply(m.state);
      else pendingState = m.state;
      return;
    case 'drain':
      void (core?.awaitIdle(m.id, m.timeoutMs) ?? Promise.resolve(true)).then((idle) => send({ t: 'drained', req: m.req, idle }));
      return;
    case 'stats':
      send({ t: 'stats', req: m.req, stats: core?.rawStats() ?? [] });
      return;
    case 'close':
      shutdown();
      return;
  }
});
