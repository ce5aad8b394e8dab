// DNS over UDP: one datagram in, at most one out. Answers are written synchronously; only forwarded questions wait.
import type { Socket } from 'node:dgram';
import { createLogger } from '../log/index.js';
import { FORWARD } from './respond-to-message.js';
import type { Responder } from './respond-to-message.js';

const log = createLogger('dns');

/** Forwards a raw request to the recursors; resolves to the response, or undefined when they all failed. */
export type Forwarder = (msg: Buffer, tcp: boolean) => Promise<Buffer | undefined>;

/** Answers every datagram that arrives on `socket`. */
export function serveUdp(socket: Socket, responder: Responder, forward: Forwarder): void {
  // No send callback: Node then skips a completion request per datagram; a failed send surfaces as 'error' below.
  const sendTo = (out: Buffer, port: number, address: string): void => {
    socket.send(out, port, address);
  };
  socket.on('message', (msg, rinfo) => {
    let out: ReturnType<Responder['respond']>;
    try {
      out = responder.respond(msg, false);
    } catch (err) {
      // respond() turns failures into SERVFAIL; this only guards the daemon against a bug in that guard.
      log.error('unexpected failure answering a UDP query:', err);
      return;
    }
    if (out === null) return;
    if (out !== FORWARD) {
      sendTo(out, rinfo.port, rinfo.address);
      return;
    }
    void forward(msg, false).then((resp) => {
      const reply = resp ?? responder.recursionFailed(msg, false);
      if (reply) sendTo(reply, rinfo.port, rinfo.address);
    });
  });
  socket.on('error', (err) => log.debug('udp socket error:', err.message));
}
