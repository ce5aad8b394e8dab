// DNS over TCP: 2-byte length-framed messages, many per connection, answered as they arrive (forwarded ones may
// come back out of order, which RFC 7766 allows: clients match by id); idle connections are closed.
import type { Socket } from 'node:net';
import { createLogger } from '../log/index.js';
import { FORWARD } from './respond-to-message.js';
import type { Responder } from './respond-to-message.js';
import type { Forwarder } from './serve-udp.js';

const log = createLogger('dns');

/** A peer that sends questions but does not read the answers is cut off once this much waits to be written. */
const MAX_UNREAD = 4 * 1024 * 1024;

/** Handles one accepted TCP connection until the peer closes it, it idles for `idleMs`, or `sockets` is cleared. */
export function serveTcpConnection(sock: Socket, responder: Responder, forward: Forwarder, idleMs: number, sockets: Set<Socket>): void {
  sockets.add(sock);
  sock.setNoDelay(true);
  sock.setTimeout(idleMs, () => sock.destroy());
  sock.on('close', () => sockets.delete(sock));
  sock.on('error', (err) => log.debug('tcp connection error:', err.message));
  let pending: Buffer | null = null;
  sock.on('data', (chunk: Buffer) => {
    const data = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let pos = 0;
    // Pipelined questions in one chunk leave in one write.
    sock.cork();
    process.nextTick(() => sock.uncork());
    while (data.length - pos >= 2) {
      const len = data.readUInt16BE(pos);
      if (data.length - pos - 2 < len) break;
      const msg = data.subarray(pos + 2, pos + 2 + len);
      pos += 2 + len;
      let out: ReturnType<Responder['respond']>;
      try {
        out = responder.respond(msg, true);
      } catch (err) {
        log.error('unexpected failure answering a TCP query:', err);
        out = null;
      }
      if (out === null || sock.writableLength > MAX_UNREAD) {
        // Not a query we can answer at all (too short, or a response), or answers pile up unread: drop the peer.
        sock.destroy();
        return;
      }
      if (out !== FORWARD) {
        sock.write(out);
        continue;
      }
      // The frame is a view into `data`, which the next chunk may replace: keep a copy while the recursors work.
      const copy = Buffer.from(msg);
      void forward(copy, true).then((resp) => {
        if (sock.destroyed) return;
        if (resp) {
          const framed = Buffer.allocUnsafe(resp.length + 2);
          framed.writeUInt16BE(resp.length, 0);
          resp.copy(framed, 2);
          sock.write(framed);
        } else {
          const failed = responder.recursionFailed(copy, true);
          if (failed) sock.write(failed);
        }
      });
    }
    if (pos < data.length) pending = Buffer.from(data.subarray(pos));
  });
}
