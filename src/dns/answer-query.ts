// The resolver as a pure function over dns-packet objects: the same answers the server sends, testable without
// sockets, and usable by anything that already holds a decoded query.
import type { Answer, Packet, Question } from 'dns-packet';
import type { BusStore } from '../bus/index.js';
import { FLAG, RCODE, rcodeName, typeName, typeNumber } from './dns-constants.js';
import type { RcodeName } from './dns-constants.js';
import { createDnsCatalog } from './dns-catalog.js';
import type { DnsCatalog } from './dns-catalog.js';
import { resolveDnsOptions } from './dns-options.js';
import type { DnsAnswerOptions } from './dns-options.js';
import type { Reply, ReplyRecord, SoaData, SrvData } from './dns-reply.js';
import { ADVERTISED_UDP_SIZE } from './dns-constants.js';
import { formatIp } from './ip-bytes.js';
import { resolveQuestion } from './resolve-question.js';

/** A response packet; `rcode` repeats the low 4 bits of `flags` by name. */
export type DnsAnswer = Packet & { type: 'response'; rcode: RcodeName };

// One catalog per store, following it for the store's lifetime (the WeakMap lets both go together).
const catalogs = new WeakMap<BusStore, DnsCatalog>();

function catalogFor(store: BusStore): DnsCatalog {
  let catalog = catalogs.get(store);
  if (!catalog) {
    catalog = createDnsCatalog(store);
    catalogs.set(store, catalog);
  }
  return catalog;
}

function toAnswer(rec: ReplyRecord, qname: string): Answer {
  const name = rec.name ?? qname;
  const ttl = rec.ttl;
  switch (typeName(rec.type)) {
    case 'A':
      return { name, type: 'A', ttl, data: formatIp(rec.data as Uint8Array) };
    case 'AAAA':
      return { name, type: 'AAAA', ttl, data: formatIp(rec.data as Uint8Array) };
    case 'CNAME':
      return { name, type: 'CNAME', ttl, data: rec.data as string };
    case 'PTR':
      return { name, type: 'PTR', ttl, data: rec.data as string };
    case 'NS':
      return { name, type: 'NS', ttl, data: rec.data as string };
    case 'TXT':
      return { name, type: 'TXT', ttl, data: rec.data as string };
    case 'SRV': {
      const d = rec.data as SrvData;
      return { name, type: 'SRV', ttl, data: { priority: d.priority, weight: d.weight, port: d.port, target: d.target } };
    }
    case 'SOA': {
      const d = rec.data as SoaData;
      return { name, type: 'SOA', ttl, data: { ...d } };
    }
    default:
      throw new Error(`no dns-packet form for record type ${rec.type}`);
  }
}

function packetOf(query: Packet, question: Question | undefined, reply: Reply, recursionAvailable: boolean): DnsAnswer {
  const asked = query.flags ?? 0;
  let flags = (asked & (FLAG.RD | FLAG.CD)) | reply.rcode;
  if (reply.authoritative) flags |= FLAG.AA;
  if (recursionAvailable) flags |= FLAG.RA;
  const qname = question?.name ?? '';
  const additionals: Answer[] = [];
  for (const rec of reply.answers) for (const extra of rec.extra ?? []) additionals.push(toAnswer(extra, qname));
  for (const rec of reply.additional) additionals.push(toAnswer(rec, qname));
  const opt = query.additionals?.find((a) => a.type === 'OPT');
  if (opt) additionals.push({ name: '.', type: 'OPT', udpPayloadSize: ADVERTISED_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 'flags' in opt ? opt.flags & 0x8000 : 0, flag_do: 'flag_do' in opt ? opt.flag_do : false, options: [] });
  return {
    type: 'response',
    id: query.id ?? 0,
    flags,
    rcode: rcodeName(reply.rcode),
    questions: question ? [question] : [],
    answers: reply.answers.map((r) => toAnswer(r, qname)),
    authorities: reply.authority.map((r) => toAnswer(r, qname)),
    additionals,
  };
}

function bare(rcode: Reply['rcode'], authoritative: boolean): Reply {
  return { rcode, authoritative, answers: [], authority: [], additional: [] };
}

/**
 * Answers a decoded query from the store, exactly as the server does over TCP (no size cut). A name outside
 * the domain gets REFUSED without recursors, and SERVFAIL with them: forwarding is the server's job.
 * Malformed queries (not exactly one question) get FORMERR; opcodes other than QUERY get NOTIMP.
 */
export function answerQuery(query: Packet, store: BusStore, opts: DnsAnswerOptions = {}): DnsAnswer {
  const resolved = resolveDnsOptions(opts);
  const recursionAvailable = resolved.recursors.length > 0;
  const questions = query.questions ?? [];
  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  if (opcode !== 0) return packetOf(query, questions[0], bare(RCODE.NOTIMP, false), false);
  if (questions.length !== 1) return packetOf(query, undefined, bare(RCODE.FORMERR, false), false);
  const question = questions[0]!;
  const name = question.name.toLowerCase().replace(/\.+$/, '');
  let reply: Reply | null;
  try {
    reply = resolveQuestion({ name, type: typeNumber(question.type) }, catalogFor(store), resolved);
  } catch {
    reply = bare(RCODE.SERVFAIL, false);
  }
  if (reply === null) reply = bare(recursionAvailable ? RCODE.SERVFAIL : RCODE.REFUSED, false);
  return packetOf(query, question, reply, recursionAvailable);
}
