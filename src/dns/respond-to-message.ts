// One request message in, one response message out: read, resolve, write. Shared by the UDP and TCP listeners;
// never throws (a failure inside becomes SERVFAIL), and says when the question must go to the recursors instead.
import { createLogger } from '../log/index.js';
import { RCODE } from './dns-constants.js';
import type { DnsCatalog } from './dns-catalog.js';
import type { ResolvedDnsOptions } from './dns-options.js';
import type { Reply } from './dns-reply.js';
import { readQuery } from './read-query.js';
import type { WireQuery } from './read-query.js';
import { resolveQuestion } from './resolve-question.js';
import { ReplyWriter, writeBareError } from './write-reply.js';

const log = createLogger('dns');

/** Returned by `respond` when the question is outside the domain and recursors are configured. */
export const FORWARD: unique symbol = Symbol('forward');

/** Answers raw request messages. */
export interface Responder {
  /** The response bytes (TCP-framed when `tcp`), FORWARD, or null to send nothing. */
  respond(msg: Buffer, tcp: boolean): Buffer | null | typeof FORWARD;
  /** SERVFAIL with RA for a request whose recursors all failed (what Consul answers then). */
  recursionFailed(msg: Buffer, tcp: boolean): Buffer | null;
}

function bare(rcode: Reply['rcode'], authoritative: boolean): Reply {
  return { rcode, authoritative, answers: [], authority: [], additional: [] };
}

/** Creates the responder over a catalog. `enableTruncate` sets TC on UDP answers cut to the client's limit. */
export function createResponder(catalog: DnsCatalog, opts: ResolvedDnsOptions, enableTruncate: boolean): Responder {
  const writer = new ReplyWriter();
  const recursionAvailable = opts.recursors.length > 0;

  const encode = (msg: Buffer, tcp: boolean, build: (q: WireQuery) => Reply | typeof FORWARD): Buffer | null | typeof FORWARD => {
    const q = readQuery(msg);
    if (!q.ok) return q.rcode === 'drop' ? null : writeBareError(q.id, q.flags, RCODE[q.rcode], tcp);
    let reply: Reply | typeof FORWARD;
    try {
      reply = build(q);
    } catch (err) {
      log.error(`failed to answer ${q.name} type ${q.type}:`, err);
      reply = bare(RCODE.SERVFAIL, false);
    }
    if (reply === FORWARD) return FORWARD;
    const limits = { limit: tcp ? 65535 : q.udpLimit, setTruncated: tcp || enableTruncate, recursionAvailable, framed: tcp };
    try {
      return writer.write(msg, q, reply, limits);
    } catch (err) {
      log.error(`failed to encode the answer to ${q.name} type ${q.type}:`, err);
      return writer.write(msg, q, bare(RCODE.SERVFAIL, false), limits);
    }
  };

  const answer = (q: WireQuery): Reply | typeof FORWARD => {
    const reply = resolveQuestion(q, catalog, opts);
    if (reply !== null) return reply;
    // Outside the domain: forward when recursors are configured; otherwise REFUSED, as Consul (its router
    // answers an unmatched domain with REFUSED, the miekg/dns ServeMux default, RA clear).
    return recursionAvailable ? FORWARD : bare(RCODE.REFUSED, false);
  };
  const serverFailure = (): Reply => bare(RCODE.SERVFAIL, false);

  return {
    respond: (msg, tcp) => encode(msg, tcp, answer),
    recursionFailed: (msg, tcp) => {
      const out = encode(msg, tcp, serverFailure);
      return out === FORWARD ? null : out;
    },
  };
}
