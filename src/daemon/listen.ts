// Picks and binds the daemon's API port: the preferred one, or the next free one when another machineroom project holds it.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { MachineroomError } from '../errors/index.js';
import { findPortHolder } from '../proc/index.js';
import { projectHoldingPort, withRegistry } from '../state/index.js';
import type { RegisteredProject } from '../state/index.js';

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

/** Binds `server` to 127.0.0.1 on the preferred port (or the next free ones past ports other projects hold) and registers it. */
export async function bindApiPort(
  server: Server,
  opts: { preferred: number; projectId: string; entry: Omit<RegisteredProject, 'ports'>; host?: string; registryDir?: string; tries?: number },
): Promise<number> {
  const host = opts.host ?? '127.0.0.1';
  const tries = opts.tries ?? 50;
  let candidate = opts.preferred;
  for (let i = 0; i < tries; i++) {
    // Reserve under the registry lock so two daemons starting together never pick the same port.
    const reserved = await withRegistry((data) => {
      if (candidate !== 0) {
        while (projectHoldingPort(data, candidate) && candidate < 65535) candidate += 1;
      }
      data.projects[opts.projectId] = { ...opts.entry, ports: { api: candidate } };
      return candidate;
    }, opts.registryDir);
    const got = await listenOn(server, host, reserved);
    if (typeof got === 'number') {
      if (got !== reserved) await withRegistry((data) => void (data.projects[opts.projectId] = { ...opts.entry, ports: { api: got } }), opts.registryDir);
      return got;
    }
    if (got.code !== 'EADDRINUSE') throw new MachineroomError('ERR_PORT_IN_USE', `cannot listen on ${host}:${reserved}: ${got.message}`, { cause: got });
    if (reserved === opts.preferred) {
      // Held by something that is not a machineroom project: say who, and how to move.
      await withRegistry((data) => void delete data.projects[opts.projectId], opts.registryDir);
      throw new MachineroomError(
        'ERR_PORT_IN_USE',
        `${describePortHolder(reserved)}; stop it, or set another port with api_port: in machineroom.yml or MACHINEROOM_API_PORT=<port>`,
        { details: { port: reserved } },
      );
    }
    candidate = reserved + 1;
  }
  throw new MachineroomError('ERR_PORT_IN_USE', `no free port found from ${opts.preferred} on; set api_port: or MACHINEROOM_API_PORT`);
}

/** A plain node http server (requests are handled elsewhere). */
export function createApiServer(): Server {
  const server = createServer();
  server.keepAliveTimeout = 5000;
  return server;
}
