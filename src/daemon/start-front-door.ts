// The front door, served: its listener on 127.0.0.1 (and [::1] when it can) at the preferred port, moved past ports
// other projects hold, routing to the bus's healthy instances.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { BusStore } from '../bus/index.js';
import type { ResolvedFrontDoor } from '../config/index.js';
import { createFrontDoor } from '../frontdoor/index.js';
import type { AccessEntry, FrontDoor } from '../frontdoor/index.js';
import type { RegisteredProject } from '../state/index.js';
import { bindPort } from './listen.js';

/** A running front door. */
export interface ServedFrontDoor {
  readonly door: FrontDoor;
  readonly port: number;
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Starts the front door for a project. */
export async function startFrontDoor(opts: {
  store: BusStore;
  project: string;
  domain: string;
  settings: ResolvedFrontDoor;
  projectId: string;
  entry: Omit<RegisteredProject, 'ports'>;
  registryDir?: string;
  onAccess?: (entry: AccessEntry) => void;
}): Promise<ServedFrontDoor> {
  const door = createFrontDoor({
    store: opts.store,
    project: opts.project,
    domain: opts.domain,
    balancer: opts.settings.balancer,
    drainTimeoutMs: opts.settings.drainTimeout,
    ...(opts.onAccess ? { onAccess: opts.onAccess } : {}),
  });
  const make = () => {
    const s = createServer({ noDelay: true });
    s.keepAliveTimeout = 5000;
    s.on('request', (req, res) => door.handleRequest(req, res));
    s.on('upgrade', (req, socket, head) => door.handleUpgrade(req, socket, head));
    return s;
  };
  const v4 = await bindPort({
    role: 'http',
    preferred: opts.settings.httpPort,
    projectId: opts.projectId,
    entry: opts.entry,
    setting: 'front_door: { http_port: } in machineroom.yml or MACHINEROOM_HTTP_PORT=<port>',
    attempt: (port) => listen(make(), '127.0.0.1', port),
    portOf: (s) => (s.address() as { port: number }).port,
    ...(opts.registryDir ? { registryDir: opts.registryDir } : {}),
  });
  const port = (v4.address() as { port: number }).port;
  // Browsers may try ::1 first for *.localhost names: serve it too when the port is free there.
  const v6 = await listen(make(), '::1', port).catch(() => undefined);
  let closed: Promise<void> | undefined;
  const closeServer = (s: Server) =>
    new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
  return {
    door,
    port,
    close() {
      closed ??= (async () => {
        door.close();
        await Promise.all([closeServer(v4), ...(v6 ? [closeServer(v6)] : [])]);
      })();
      return closed;
    },
  };
}
