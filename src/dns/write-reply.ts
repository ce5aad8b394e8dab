// Puts a reply on the wire: header, the question copied from the request, records with name compression, and
// the cut to the client's size limit (answers that do not fit are dropped and TC is set; additional records
// that do not fit are dropped silently, as RFC 2181 §9 allows).
import { ADVERTISED_UDP_SIZE, CLASS_IN, FLAG, TYPE } from './dns-constants.js';
import type { Reply, ReplyRecord, SoaData, SrvData } from './dns-reply.js';
import type { WireQuery } from './read-query.js';

/** How a reply is written. */
export interface WriteOptions {
  /** Largest message allowed (512, the client's EDNS0 size, or 65535 over TCP). */
  limit: number;
  /** Set TC when answers were cut (Consul's enable_truncate). */
  setTruncated: boolean;
  /** RA: recursors are configured. */
  recursionAvailable: boolean;
  /** Prefix the message with its 2-byte length (TCP framing). */
  framed: boolean;
}

/** Thrown when a record cannot be encoded (a label over 63 bytes, a name over 255). */
export class EncodeError extends Error {}

const OPT_SIZE = 11;
const TOO_BIG = -1;
const UNENCODABLE = -2;

/**
 * Writes replies into one scratch buffer and copies each out at its exact size. Name compression keys on the
 * names as written (the question's suffixes in lower case); a rollback (a record that did not fit, or could not
 * be encoded and is left out) also forgets the names it introduced.
 */
export class ReplyWriter {
  private readonly buf = Buffer.alloc(2 * 65536);
  private readonly dict = new Map<string, number>();
  private readonly order: string[] = [];
  private base = 0;
  private qname = '';

  /** Encodes `reply` to `query` (whose raw bytes are `request`). */
  write(request: Buffer, query: WireQuery, reply: Reply, opts: WriteOptions): Buffer {
    const buf = this.buf;
    const base = opts.framed ? 2 : 0;
    this.base = base;
    this.qname = query.name;
    this.dict.clear();
    this.order.length = 0;

    request.copy(buf, base + 12, 12, query.questionEnd);
    let pos = base + query.questionEnd;
    const limit = base + Math.min(opts.limit, 65535) - (query.edns ? OPT_SIZE : 0);
    let truncated = false;
    let nscount = 0;
    let arcount = 0;

    const answers = reply.answers;
    const included: ReplyRecord[] = [];
    for (const rec of answers) {
      const end = this.place(pos, rec, limit);
      if (end === TOO_BIG) {
        truncated = true;
        break;
      }
      if (end === UNENCODABLE) continue;
      pos = end;
      included.push(rec);
    }
    const ancount = included.length;
    if (!truncated) {
      for (const rec of reply.authority) {
        const end = this.place(pos, rec, limit);
        if (end === TOO_BIG) {
          truncated = true;
          break;
        }
        if (end === UNENCODABLE) continue;
        pos = end;
        nscount++;
      }
    }
    // ADDITIONAL: the extras of the answers that made it, then the reply's own; stop at the first that does not fit.
    let full = false;
    const place = (rec: ReplyRecord): void => {
      const end = this.place(pos, rec, limit);
      if (end === TOO_BIG) full = true;
      else if (end !== UNENCODABLE) {
        pos = end;
        arcount++;
      }
    };
    for (let i = 0; i < included.length && !full; i++) {
      const extra = included[i]!.extra;
      if (extra) for (let j = 0; j < extra.length && !full; j++) place(extra[j]!);
    }
    for (let i = 0; i < reply.additional.length && !full; i++) place(reply.additional[i]!);
    if (query.edns) {
      buf[pos] = 0; // root
      buf.writeUInt16BE(TYPE.OPT, pos + 1);
      buf.writeUInt16BE(ADVERTISED_UDP_SIZE, pos + 3);
      buf.writeUInt32BE(query.dnssecOk ? 0x8000 : 0, pos + 5); // extended rcode 0, version 0, DO echoed
      buf.writeUInt16BE(0, pos + 9);
      pos += OPT_SIZE;
      arcount++;
    }

    let flags = FLAG.QR | (query.flags & (FLAG.RD | FLAG.CD)) | reply.rcode;
    if (reply.authoritative) flags |= FLAG.AA;
    if (opts.recursionAvailable) flags |= FLAG.RA;
    if (truncated && opts.setTruncated) flags |= FLAG.TC;
    buf.writeUInt16BE(query.id, base);
    buf.writeUInt16BE(flags, base + 2);
    buf.writeUInt16BE(1, base + 4);
    buf.writeUInt16BE(ancount, base + 6);
    buf.writeUInt16BE(nscount, base + 8);
    buf.writeUInt16BE(arcount, base + 10);
    if (opts.framed) buf.writeUInt16BE(pos - base, 0);

    const out = Buffer.allocUnsafe(pos);
    buf.copy(out, 0, 0, pos);
    return out;
  }

  /** Writes a record at `pos` if it fits under `limit`: its end, or TOO_BIG / UNENCODABLE (then nothing stays written). */
  private place(pos: number, rec: ReplyRecord, limit: number): number {
    let end: number;
    try {
      end = this.writeRecord(pos, rec);
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      this.rollback(pos);
      return UNENCODABLE;
    }
    if (end <= limit) return end;
    this.rollback(pos);
    return TOO_BIG;
  }

  private rollback(pos: number): void {
    const offset = pos - this.base;
    while (this.order.length) {
      const key = this.order[this.order.length - 1]!;
      if (this.dict.get(key)! < offset) break;
      this.dict.delete(key);
      this.order.pop();
    }
  }

  private remember(key: string, pos: number): void {
    const offset = pos - this.base;
    if (offset < 0x3fff && this.find(key) === undefined) {
      this.dict.set(key, offset);
      this.order.push(key);
    }
  }

  /** Where `key` (a whole name) was written before: in the dictionary, or as the question's name or one of its suffixes. */
  private find(key: string): number | undefined {
    const known = this.dict.get(key);
    if (known !== undefined) return known;
    const q = this.qname;
    const cut = q.length - key.length;
    if (cut === 0 ? q === key : cut > 0 && q.charCodeAt(cut - 1) === 46 && q.endsWith(key)) return 12 + cut;
    return undefined;
  }

  /** Writes one label (ASCII by hand, which beats a native call for short strings); returns the end. */
  private writeLabel(pos: number, name: string, from: number, to: number): number {
    const buf = this.buf;
    let len = to - from;
    let ascii = true;
    for (let i = from; i < to; i++) {
      const c = name.charCodeAt(i);
      if (c > 127) {
        ascii = false;
        break;
      }
      buf[pos + 1 + i - from] = c;
    }
    if (!ascii) len = buf.write(name.slice(from, to), pos + 1, 'utf8');
    if (len === 0 || len > 63) throw new EncodeError(`bad label in ${JSON.stringify(name)}`);
    buf[pos] = len;
    return pos + 1 + len;
  }

  /**
   * Writes a name at `pos`. Compressed: ends in a pointer to the longest suffix already written. Either way the
   * whole name becomes a target for later names (an SRV target for its ADDITIONAL address). Keys are the names as
   * written; the question's suffixes are lower case, and every generated name ends in the lower-case domain.
   */
  private writeName(pos: number, name: string, compress: boolean): number {
    const buf = this.buf;
    if (name === '') {
      buf[pos] = 0;
      return pos + 1;
    }
    if (name.length > 253) throw new EncodeError(`name too long: ${name}`);
    let start = 0;
    while (start < name.length) {
      if (compress || start === 0) {
        const key = start === 0 ? name : name.slice(start);
        const ptr = compress ? this.find(key) : undefined;
        if (ptr !== undefined) {
          buf.writeUInt16BE(0xc000 | ptr, pos);
          return pos + 2;
        }
        this.remember(key, pos);
      }
      let dot = name.indexOf('.', start);
      if (dot < 0) dot = name.length;
      pos = this.writeLabel(pos, name, start, dot);
      start = dot + 1;
    }
    buf[pos] = 0;
    return pos + 1;
  }

  private writeRecord(pos: number, rec: ReplyRecord): number {
    const buf = this.buf;
    if (rec.name === null) {
      if (this.qname === '') buf[pos++] = 0;
      else {
        buf.writeUInt16BE(0xc00c, pos);
        pos += 2;
      }
    } else {
      pos = this.writeName(pos, rec.name, true);
    }
    buf.writeUInt16BE(rec.type, pos);
    buf.writeUInt16BE(CLASS_IN, pos + 2);
    buf.writeUInt32BE(rec.ttl, pos + 4);
    const rdata = pos + 10;
    let end: number;
    switch (rec.type) {
      case TYPE.A:
      case TYPE.AAAA: {
        const ip = rec.data as Uint8Array;
        buf.set(ip, rdata);
        end = rdata + ip.length;
        break;
      }
      case TYPE.CNAME:
      case TYPE.PTR:
      case TYPE.NS:
        end = this.writeName(rdata, rec.data as string, true);
        break;
      case TYPE.TXT:
        end = this.writeText(rdata, rec.data as string);
        break;
      case TYPE.SRV: {
        const srv = rec.data as SrvData;
        buf.writeUInt16BE(srv.priority, rdata);
        buf.writeUInt16BE(srv.weight, rdata + 2);
        buf.writeUInt16BE(srv.port & 0xffff, rdata + 4);
        // RFC 2782: the target is never compressed, but later names may point into it.
        end = this.writeName(rdata + 6, srv.target, false);
        break;
      }
      case TYPE.SOA: {
        const soa = rec.data as SoaData;
        end = this.writeName(rdata, soa.mname, true);
        end = this.writeName(end, soa.rname, true);
        buf.writeUInt32BE(soa.serial >>> 0, end);
        buf.writeUInt32BE(soa.refresh, end + 4);
        buf.writeUInt32BE(soa.retry, end + 8);
        buf.writeUInt32BE(soa.expire, end + 12);
        buf.writeUInt32BE(soa.minimum, end + 16);
        end += 20;
        break;
      }
      default:
        throw new EncodeError(`cannot encode record type ${rec.type}`);
    }
    buf.writeUInt16BE(end - rdata, pos + 8);
    return end;
  }

  /** TXT rdata: the text as character-strings of at most 255 bytes. */
  private writeText(pos: number, text: string): number {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > 60000) throw new EncodeError('TXT record too long');
    let i = 0;
    do {
      const len = Math.min(255, bytes.length - i);
      this.buf[pos++] = len;
      bytes.copy(this.buf, pos, i, i + len);
      pos += len;
      i += len;
    } while (i < bytes.length);
    return pos;
  }
}

/** Writes a reply that is just a header (FORMERR, NOTIMP): no question, no records. */
export function writeBareError(id: number, requestFlags: number, rcode: number, framed: boolean): Buffer {
  const base = framed ? 2 : 0;
  const out = Buffer.alloc(base + 12);
  if (framed) out.writeUInt16BE(12, 0);
  out.writeUInt16BE(id, base);
  // Echo the opcode and RD; QR set; everything else clear.
  out.writeUInt16BE(FLAG.QR | (requestFlags & (0x7800 | FLAG.RD)) | rcode, base + 2);
  return out;
}
