// Reads a query off the wire without a general-purpose decoder: the header, the one question (its name folded to
// lower case) and any EDNS0 OPT record. Malformed input becomes a value saying how to answer, never a throw.
import { FLAG, TYPE, UDP_DEFAULT_LIMIT } from './dns-constants.js';

/** A well-formed query. */
export interface WireQuery {
  readonly ok: true;
  id: number;
  /** The header's flag word as sent (RD and CD are echoed from it). */
  flags: number;
  /** The question's name in lower case, labels joined by dots, no trailing dot ("" for the root). */
  name: string;
  type: number;
  qclass: number;
  /** Where the question ends (the question is echoed by copying bytes 12..questionEnd). */
  questionEnd: number;
  /** Whether the query carried an EDNS0 OPT record. */
  edns: boolean;
  /** The DO bit of that OPT (echoed, RFC 3225). */
  dnssecOk: boolean;
  /** The largest UDP answer the client takes: 512, or its EDNS0 payload size when larger. */
  udpLimit: number;
}

/** A query that gets a bare error (FORMERR, NOTIMP) or nothing at all (too short to answer, or not a query). */
export interface WireRejection {
  readonly ok: false;
  /** 'drop' sends nothing. */
  rcode: 'drop' | 'FORMERR' | 'NOTIMP';
  id: number;
  flags: number;
}

/** What reading a message gave. */
export type WireRead = WireQuery | WireRejection;

const nameScratch = Buffer.alloc(256);

function reject(rcode: WireRejection['rcode'], msg: Buffer): WireRejection {
  return { ok: false, rcode, id: msg.length >= 2 ? msg.readUInt16BE(0) : 0, flags: msg.length >= 4 ? msg.readUInt16BE(2) : 0 };
}

/** Skips a (possibly compressed) name in a resource record; -1 when it runs off the end. */
function skipName(msg: Buffer, pos: number): number {
  for (let hops = 0; hops < 128; hops++) {
    if (pos >= msg.length) return -1;
    const len = msg[pos]!;
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2 <= msg.length ? pos + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    pos += len + 1;
  }
  return -1;
}

/** Reads a query message (UDP datagram or TCP frame without its length prefix). */
export function readQuery(msg: Buffer): WireRead {
  if (msg.length < 12) return reject('drop', msg);
  const flags = msg.readUInt16BE(2);
  if (flags & FLAG.QR) return reject('drop', msg); // a response: never answer one (no reflection loops)
  if ((flags >> 11) & 0xf) return reject('NOTIMP', msg); // only QUERY (opcode 0)
  const qdcount = msg.readUInt16BE(4);
  const ancount = msg.readUInt16BE(6);
  const nscount = msg.readUInt16BE(8);
  const arcount = msg.readUInt16BE(10);
  // As miekg/dns's default accept rules: exactly one question, and no more records than a query can carry.
  if (qdcount !== 1 || ancount > 1 || nscount > 1 || arcount > 2) return reject('FORMERR', msg);

  // The question name: plain labels only (a pointer has nothing before it to point at).
  let pos = 12;
  let n = 0;
  for (;;) {
    if (pos >= msg.length) return reject('FORMERR', msg);
    const len = msg[pos++]!;
    if (len === 0) break;
    if (len > 63 || pos + len > msg.length || n + len + 1 > 255) return reject('FORMERR', msg);
    if (n > 0) nameScratch[n++] = 46; // '.'
    for (let i = 0; i < len; i++) {
      const c = msg[pos + i]!;
      // Fold ASCII to lower case; a dot inside a label can never match a catalog name, so it becomes NUL.
      nameScratch[n++] = c >= 65 && c <= 90 ? c + 32 : c === 46 ? 0 : c;
    }
    pos += len;
  }
  if (pos + 4 > msg.length) return reject('FORMERR', msg);
  const name = nameScratch.toString('latin1', 0, n);
  const type = msg.readUInt16BE(pos);
  const qclass = msg.readUInt16BE(pos + 2);
  const questionEnd = pos + 4;

  // Skip answer/authority records; look for OPT among the additional ones.
  pos = questionEnd;
  let edns = false;
  let dnssecOk = false;
  let udpLimit = UDP_DEFAULT_LIMIT;
  const records = ancount + nscount + arcount;
  for (let r = 0; r < records; r++) {
    const nameEnd = skipName(msg, pos);
    if (nameEnd < 0 || nameEnd + 10 > msg.length) return reject('FORMERR', msg);
    const rtype = msg.readUInt16BE(nameEnd);
    const rdlength = msg.readUInt16BE(nameEnd + 8);
    const end = nameEnd + 10 + rdlength;
    if (end > msg.length) return reject('FORMERR', msg);
    if (rtype === TYPE.OPT) {
      // One OPT, in ADDITIONAL, owned by the root (RFC 6891 §6.1.1).
      if (edns || r < ancount + nscount || nameEnd !== pos + 1) return reject('FORMERR', msg);
      edns = true;
      udpLimit = Math.max(UDP_DEFAULT_LIMIT, msg.readUInt16BE(nameEnd + 2));
      dnssecOk = (msg.readUInt16BE(nameEnd + 6) & 0x8000) !== 0;
    }
    pos = end;
  }
  return { ok: true, id: msg.readUInt16BE(0), flags, name, type, qclass, questionEnd, edns, dnssecOk, udpLimit };
}
