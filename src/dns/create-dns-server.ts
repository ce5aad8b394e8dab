// The DNS server over the bus store: UDP and TCP on one port, answers from an index kept current by the store's
// subscription, questions outside the domain forwarded to recursors when configured.
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { bindDnsPorts } from './bind-dns-ports.js';
import { createDnsCatalog } from './dns-catalog.js';
import { resolveDnsOptions } from './dns-options.js';
import type { DnsServerOptions } from './dns-options.js';
import { forwardQuery } from './forward-query.js';
import { createResponder } from './respond-to-message.js';
import { serveTcpConnection } from './serve-tcp.js';
import { serveUdp } from './serve-udp.js';
import type { Forwarder } from './serve-udp.js';

/** A running DNS server. */
export interface DnsServer {
  /** The bound address. */
  readonly address: string;
  /** The bound port (UDP and TCP). */
  readonly port: number;
  /** Stops listening, drops TCP connections and abandons forwarded questions; safe to call twice. */
  close(): Promise<void>;
}

/** Starts a DNS server answering from `opts.store` on `opts.host:opts.port` (UDP and TCP). */
export async function createDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const host = opts.host ?? '127.0.0.1';
  const resolved = resolveDnsOptions(opts);
  const idleMs = opts.tcpIdleTimeoutMs ?? 8000;
  const timeoutMs = Math.max(1, (opts.recursorTimeout ?? 2) * 1000);
  const catalog = createDnsCatalog(opts.store);
  const responder = createResponder(catalog, resolved, opts.enableTruncate ?? true);
  const abort = new AbortController();
  const forward: Forwarder = (msg, tcp) => forwardQuery(msg, resolved.recursors, { tcp, timeoutMs, signal: abort.signal });
  const connections = new Set<Socket>();

  let bound;
  try {
    bound = await bindDnsPorts(host, opts.port, () =>
      createServer({ noDelay: true }, (sock) => serveTcpConnection(sock, responder, forward, idleMs, connections)),
    );
  } catch (err) {
    catalog.close();
    throw err;
  }
  const { udp, tcp, port } = bound;
  serveUdp(udp, responder, forward);

  let closing: Promise<void> | undefined;
  return {
    address: host,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        catalog.close();
        abort.abort();
        let left = 2;
        const done = (): void => {
          if (--left === 0) resolve();
        };
        udp.close(done);
        tcp.close(() => done());
        for (const sock of connections) sock.destroy();
        connections.clear();
      });
      return closing;
    },
  };
}
