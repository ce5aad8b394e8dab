// Picks and binds the daemon's API port: the preferred one, or the next free one when another machineroom project holds it.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { MachineroomError } from '../errors/index.js';
import { findPortHolder } from '../proc/index.js';
import { projectHoldingPort, withRegistry } from '../state/index.js';
import type { RegisteredProject, RegistryData } from '../state/index.js';

function listenOn(server: Server, host: string, port: number): Promise<number | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      resolve(err);
    };
    const onListening = () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

/** Describes who holds a port, for the error message. */
export function describePortHolder(port: number): string {
  const holder = findPortHolder(port);
  if (!holder) return `port ${port} is in use by another program`;
  const cmd = holder.cmdline?.join(' ') || holder.comm;
  return `port ${port} is in use by pid ${holder.pid} (${cmd})`;
}

/** How one of the daemon's listeners is bound. */
export interface PortBinding<T> {
  /** Its name in the registry (api, dns, later http and https). */
  role: string;
  preferred: number;
  projectId: string;
  entry: Omit<RegisteredProject, 'ports'>;
  /** What the user can change, for the error message: `api_port: in machineroom.yml or MACHINEROOM_API_PORT=<port>`. */
  setting: string;
  /** Binds on a port, resolving to the listener; rejects with the errno error (EADDRINUSE) when it is taken. */
  attempt: (port: number) => Promise<T>;
  portOf: (bound: T) => number;
  registryDir?: string;
  tries?: number;
}

function recordPort(data: RegistryData, b: PortBinding<unknown>, port: number): void {
  const prev = data.projects[b.projectId];
  data.projects[b.projectId] = { ...b.entry, ports: { ...(prev?.ports ?? {}), [b.role]: port } };
}

/**
 * Binds a listener on its preferred port, or on the next free one past ports other machineroom projects hold;
 * a preferred port held by anything else is an error naming the process. The port is reserved in the machine-wide
 * registry under its lock first, so two daemons starting together never pick the same one.
 */
export async function bindPort<T>(b: PortBinding<T>): Promise<T> {
  const tries = b.tries ?? 50;
  let candidate = b.preferred;
  for (let i = 0; i < tries; i++) {
    const reserved = await withRegistry((data) => {
      if (candidate !== 0) while (projectHoldingPort(data, candidate) && candidate < 65535) candidate += 1;
      recordPort(data, b as PortBinding<unknown>, candidate);
      return candidate;
    }, b.registryDir);
    let bound: T;
    try {
      bound = await b.attempt(reserved);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'EADDRINUSE') throw new MachineroomError('ERR_PORT_IN_USE', `cannot listen on 127.0.0.1:${reserved} (${b.role}): ${e.message}`, { cause: e });
      if (reserved === b.preferred) {
        throw new MachineroomError('ERR_PORT_IN_USE', `${describePortHolder(reserved)}; stop it, or set another port with ${b.setting}`, { details: { port: reserved, role: b.role } });
      }
      candidate = reserved + 1;
      continue;
    }
    const port = b.portOf(bound);
    if (port !== reserved) await withRegistry((data) => recordPort(data, b as PortBinding<unknown>, port), b.registryDir);
    return bound;
  }
  throw new MachineroomError('ERR_PORT_IN_USE', `no free port found from ${b.preferred} on for ${b.role}; set ${b.setting}`);
}

/** Binds the API's HTTP server (see bindPort). */
export async function bindApiPort(
  server: Server,
  opts: { preferred: number; projectId: string; entry: Omit<RegisteredProject, 'ports'>; host?: string; registryDir?: string; tries?: number },
): Promise<number> {
  const host = opts.host ?? '127.0.0.1';
  return bindPort({
    role: 'api',
    preferred: opts.preferred,
    projectId: opts.projectId,
    entry: opts.entry,
    setting: 'api_port: in machineroom.yml or MACHINEROOM_API_PORT=<port>',
    attempt: async (port) => {
      const got = await listenOn(server, host, port);
      if (typeof got !== 'number') throw got;
      return got;
    },
    portOf: (p) => p,
    ...(opts.registryDir ? { registryDir: opts.registryDir } : {}),
    ...(opts.tries ? { tries: opts.tries } : {}),
  });
}

/** A plain node http server (requests are handled elsewhere). */
export function createApiServer(): Server {
  const server = createServer();
  server.keepAliveTimeout = 5000;
  return server;
}
