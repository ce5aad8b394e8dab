// Plain TCP forwarding for a TCP service address (Postgres and the like): one client connection, one instance,
// bytes both ways; a refused connect is retried on another instance, since nothing has been sent yet.
import type { Socket } from 'node:net';
import { noteBodyBytes } from './memory.js';
import { connectUpstream, openAttempt, recordFailure } from './upstream.js';
import type { UpgradeDeps } from './proxy-upgrade.js';

const countChunk = (chunk: Buffer): void => noteBodyBytes(chunk.length);

/** What proxyTcp needs from the front door: what an upgrade needs, less the refusal text (a TCP client gets none). */
export type TcpDeps = Omit<UpgradeDeps, 'unavailableText'>;

/** Forwards a client connection to a chosen instance; the instance counts as in flight until either side closes. */
export function proxyTcp(client: Socket, deps: TcpDeps): void {
  const excluded = new Set<string>();
  client.pause();
  client.on('error', () => client.destroy());
  const attempt = (): void => {
    if (client.destroyed) return;
    const choice = deps.choose(excluded);
    if (!choice) {
      client.destroy();
      return;
    }
    const u = choice.upstream;
    const finish = openAttempt(u);
    let connected = false;
    const up = connectUpstream(u, deps.connectMs);
    up.once('connect', () => {
      connected = true;
      client.setNoDelay(true);
      client.pipe(up);
      up.pipe(client);
      client.on('data', countChunk);
      up.on('data', countChunk);
      client.resume();
    });
    up.on('error', () => {
      if (!connected) {
        finish();
        recordFailure(u, deps.maxFails, deps.failTimeoutMs, Date.now());
        excluded.add(u.id);
        attempt();
        return;
      }
      client.destroy();
    });
    up.on('close', () => {
      finish();
      if (connected) client.destroy();
    });
    client.once('close', () => up.destroy());
  };
  attempt();
}
