// Sends a question outside the domain to the recursors, one after another (Consul's default "sequential"
// strategy), each with its own timeout, over the transport the client used.
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { RCODE } from './dns-constants.js';
import type { Recursor } from './dns-options.js';

/** Whether a recursor's response ends the search: NOERROR or NXDOMAIN (as Consul; anything else tries the next). */
function isFinal(resp: Buffer): boolean {
  const rcode = resp[3]! & 0x0f;
  return rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN;
}

function exchangeUdp(msg: Buffer, r: Recursor, timeoutMs: number, signal: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket(isIPv6(r.host) ? 'udp6' : 'udp4');
    const id = msg.readUInt16BE(0);
    let settled = false;
    const finish = (out: Buffer | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.close();
      resolve(out);
    };
    const onAbort = (): void => finish(undefined);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', () => finish(undefined));
    sock.on('message', (resp) => {
      // Only a response to this question (same id, QR set) counts.
      if (resp.length >= 12 && resp.readUInt16BE(0) === id && resp[2]! & 0x80) finish(resp);
    });
    sock.connect(r.port, r.host, () => sock.send(msg, (err) => err && finish(undefined)));
  });
}

function exchangeTcp(msg: Buffer, r: Recursor, timeoutMs: number, signal: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: r.host, port: r.port });
    let settled = false;
    let got = Buffer.alloc(0);
    const finish = (out: Buffer | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(out);
    };
    const onAbort = (): void => finish(undefined);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', () => finish(undefined));
    sock.on('close', () => finish(undefined));
    sock.on('connect', () => {
      const framed = Buffer.allocUnsafe(msg.length + 2);
      framed.writeUInt16BE(msg.length, 0);
      msg.copy(framed, 2);
      sock.write(framed);
    });
    sock.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) finish(got.subarray(2, 2 + got.readUInt16BE(0)));
    });
  });
}

/**
 * Asks each recursor in turn; resolves to the first final response (unframed), or undefined when every one
 * failed or timed out (the caller answers SERVFAIL) or `signal` aborted.
 */
export async function forwardQuery(msg: Buffer, recursors: readonly Recursor[], opts: { tcp: boolean; timeoutMs: number; signal: AbortSignal }): Promise<Buffer | undefined> {
  for (const r of recursors) {
    if (opts.signal.aborted) return undefined;
    const resp = await (opts.tcp ? exchangeTcp : exchangeUdp)(msg, r, opts.timeoutMs, opts.signal);
    if (resp && resp.length >= 12 && (isFinal(resp) || resp[2]! & 0x02)) return resp; // a truncated answer goes back too: the client retries over TCP
  }
  return undefined;
}
