// WebSocket (any Upgrade) passthrough: connect to a chosen upstream, replay the upgrade request, pipe both ways.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { upstreamRequestHead } from './forward-headers.js';
import { noteBodyBytes } from './memory.js';
import { connectUpstream, openAttempt, recordFailure } from './upstream.js';
import type { UpstreamChoice } from './proxy-request.js';

const countChunk = (chunk: Buffer): void => noteBodyBytes(chunk.length);

/** What proxyUpgrade needs from the front door. */
export interface UpgradeDeps {
  connectMs: number;
  maxFails: number;
  failTimeoutMs: number;
  choose(excluded: ReadonlySet<string>): UpstreamChoice | undefined;
  /** Short text for a refusal when no instance can take the connection. */
  unavailableText(): string;
}

/** Writes a minimal HTTP error on a raw socket and closes it. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string, text: string): void {
  if (socket.destroyed) return;
  const body = text + '\n';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** Proxies an upgrade request; tracks the upstream connection as in flight until either side closes. */
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, deps: UpgradeDeps): void {
  const { head: requestHead, requestId } = upstreamRequestHead(req, path, false, true);
  const excluded = new Set<string>();
  let lastError = '';
  socket.on('error', () => socket.destroy());

  const attempt = (): void => {
    if (socket.destroyed) return;
    const choice = deps.choose(excluded);
    if (!choice) {
      if (lastError) refuseUpgrade(socket, 502, 'Bad Gateway', `${lastError} (request ${requestId})`);
      else refuseUpgrade(socket, 503, 'Service Unavailable', deps.unavailableText());
      return;
    }
    const u = choice.upstream;
    const finish = openAttempt(u);
    let connected = false;
    const up = connectUpstream(u, deps.connectMs);
    up.once('connect', () => {
      connected = true;
      up.write(requestHead, 'latin1');
      if (head.length > 0) up.write(head);
      socket.pipe(up);
      up.pipe(socket);
      socket.on('data', countChunk);
      up.on('data', countChunk);
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (connected) {
        socket.destroy();
        return;
      }
      finish();
      recordFailure(u, deps.maxFails, deps.failTimeoutMs, Date.now());
      excluded.add(u.id);
      lastError = `upstream failed: instance ${u.id} at ${u.address}:${u.port}: ${err.code ?? ''} ${err.message}`;
      attempt();
    });
    up.on('close', () => {
      finish();
      if (connected) socket.destroy();
    });
    socket.on('close', () => up.destroy());
  };
  attempt();
}
