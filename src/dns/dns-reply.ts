// The resolver's answer before it is put on the wire (write-reply.ts) or into a dns-packet Packet (answer-query.ts).
import type { Rcode } from './dns-constants.js';

/** SRV data. */
export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** SOA data. */
export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/**
 * One resource record. `name` null means the question's own name (written as a pointer to it, keeping the
 * asker's case). `data` by type: A/AAAA address bytes, CNAME/PTR/NS target name, TXT one string, SRV, SOA.
 */
export interface ReplyRecord {
  name: string | null;
  type: number;
  ttl: number;
  data: Uint8Array | string | SrvData | SoaData;
  /** Records for ADDITIONAL that belong to this answer (an SRV target's address); kept only if the answer is. */
  extra: ReplyRecord[] | null;
}

/** A resolved answer. */
export interface Reply {
  rcode: Rcode;
  /** AA: set for names inside the served domain. */
  authoritative: boolean;
  answers: ReplyRecord[];
  authority: ReplyRecord[];
  additional: ReplyRecord[];
}

/** Makes a record (one shape for every type keeps property access monomorphic on the hot path). */
export function makeRecord(name: string | null, type: number, ttl: number, data: ReplyRecord['data'], extra: ReplyRecord[] | null = null): ReplyRecord {
  return { name, type, ttl, data, extra };
}
