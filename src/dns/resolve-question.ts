// The resolver: one question in, one reply out, read from the indexed catalog. No I/O, no caching of answers:
// every call filters by health and shuffles afresh.
import { RCODE, TYPE } from './dns-constants.js';
import type { DnsCatalog, DnsInstance, DnsNode } from './dns-catalog.js';
import type { ResolvedDnsOptions } from './dns-options.js';
import { makeRecord } from './dns-reply.js';
import type { Reply, ReplyRecord, SoaData } from './dns-reply.js';
import { hexOfIp, ipOfReverseLabels, parseIp } from './ip-bytes.js';
import { parseQueryName } from './parse-query-name.js';
import { shuffleInPlace } from './shuffle.js';

/** A question: the name in lower case without a trailing dot, and the numeric type. */
export interface DnsQuestion {
  name: string;
  type: number;
}

/** Length of the part of `name` before `.zone`, 0 for the zone itself, -1 when the name is outside it. */
function prefixLength(name: string, zone: string): number {
  if (name === zone) return 0;
  const cut = name.length - zone.length - 1;
  if (cut > 0 && name.charCodeAt(cut) === 46 /* . */ && name.endsWith(zone)) return cut;
  return -1;
}

function reply(rcode: Reply['rcode'], answers: ReplyRecord[], authority: ReplyRecord[] = [], additional: ReplyRecord[] = []): Reply {
  return { rcode, authoritative: true, answers, authority, additional };
}

/** The SOA Consul puts in negative answers: `<zone>. 0 IN SOA ns.<zone>. hostmaster.<zone>. <serial> 3600 600 86400 0`. */
function soaRecord(zone: string): ReplyRecord {
  const data: SoaData = {
    mname: `ns.${zone}`,
    rname: `hostmaster.${zone}`,
    serial: Math.floor(Date.now() / 1000) >>> 0,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 0,
  };
  return makeRecord(zone, TYPE.SOA, 0, data);
}

/** NXDOMAIN: the name does not exist (or has no healthy instance), with the SOA so resolvers may cache it. */
function nameError(zone: string): Reply {
  return reply(RCODE.NXDOMAIN, [], [soaRecord(zone)]);
}

/** NODATA: the name exists but has nothing of the asked type. */
function noData(zone: string): Reply {
  return reply(RCODE.NOERROR, [], [soaRecord(zone)]);
}

const wantsV4 = (qtype: number): boolean => qtype === TYPE.A || qtype === TYPE.ANY;
const wantsV6 = (qtype: number): boolean => qtype === TYPE.AAAA || qtype === TYPE.ANY;
const wantsAddress = (qtype: number): boolean => qtype === TYPE.A || qtype === TYPE.AAAA || qtype === TYPE.ANY;

/** A/AAAA (or CNAME for a hostname) for an address, when the question type wants it. */
function addressRecord(name: string | null, address: string, ip: Uint8Array | undefined, qtype: number, ttl: number): ReplyRecord | undefined {
  if (ip) {
    if (ip.length === 4 ? wantsV4(qtype) : wantsV6(qtype)) return makeRecord(name, ip.length === 4 ? TYPE.A : TYPE.AAAA, ttl, ip);
    return undefined;
  }
  if (address && wantsAddress(qtype)) return makeRecord(name, TYPE.CNAME, ttl, address);
  return undefined;
}

/** Instances that pass the health filter (critical never; warning unless onlyPassing) and the tag filter. */
function pickInstances(list: readonly DnsInstance[], tag: string | undefined, catalog: DnsCatalog, onlyPassing: boolean): DnsInstance[] {
  const picked: DnsInstance[] = [];
  for (let i = 0; i < list.length; i++) {
    const inst = list[i]!;
    const status = catalog.statusOf(inst);
    if (status === 'critical' || (onlyPassing && status !== 'passing')) continue;
    if (tag !== undefined && !inst.tags.includes(tag)) continue;
    picked.push(inst);
  }
  return picked;
}

/** Past this many instances, de-duplication uses a Set instead of scanning the ones before. */
const SCAN_LIMIT = 32;

function serviceAddressRecords(picked: DnsInstance[], qtype: number, ttl: number, catalog: DnsCatalog, limit: number): ReplyRecord[] {
  const answers: ReplyRecord[] = [];
  const seen = picked.length > SCAN_LIMIT ? new Set<string>() : undefined;
  for (let i = 0; i < picked.length && answers.length < limit; i++) {
    const inst = picked[i]!;
    const address = catalog.addressOf(inst);
    // Consul answers each address once, however many instances share it.
    if (seen) {
      if (seen.has(address)) continue;
      seen.add(address);
    } else if (i > 0 && sharesAddress(picked, i, address)) continue;
    const rec = addressRecord(null, address, inst.ip, qtype, ttl);
    if (rec) answers.push(rec);
  }
  return answers;
}

/** Whether an instance before `i` has `address` (instances are few; a scan beats building a Set per query). */
function sharesAddress(picked: DnsInstance[], i: number, address: string): boolean {
  for (let j = 0; j < i; j++) if (picked[j]!.address === address) return true;
  return false;
}

/** Whether an instance before `i` has the same node, own address and port (Consul's SRV de-duplication). */
function sharesEndpoint(picked: DnsInstance[], i: number): boolean {
  const a = picked[i]!.record;
  for (let j = 0; j < i; j++) {
    const b = picked[j]!.record;
    if (b.Port === a.Port && b.Node === a.Node && b.Address === a.Address) return true;
  }
  return false;
}

function nodeExtras(node: DnsNode, target: string, ttl: number): ReplyRecord[] {
  const extra: ReplyRecord[] = [];
  const rec = node.ip ? makeRecord(target, node.ip.length === 4 ? TYPE.A : TYPE.AAAA, ttl, node.ip) : undefined;
  if (rec) extra.push(rec);
  for (const txt of node.txt) extra.push(makeRecord(target, TYPE.TXT, ttl, txt));
  return extra;
}

function serviceSrvRecords(picked: DnsInstance[], zone: string, ttl: number, catalog: DnsCatalog): ReplyRecord[] {
  const answers: ReplyRecord[] = [];
  const dc = catalog.datacenter;
  const seen = picked.length > SCAN_LIMIT ? new Set<string>() : undefined;
  for (let i = 0; i < picked.length; i++) {
    const inst = picked[i]!;
    const svc = inst.record;
    if (seen) {
      const key = `${svc.Node}\0${svc.Address}\0${svc.Port}`;
      if (seen.has(key)) continue;
      seen.add(key);
    } else if (i > 0 && sharesEndpoint(picked, i)) continue;
    const node = catalog.nodeOf(inst);
    const address = catalog.addressOf(inst);
    const weight = Math.max(0, Math.min(0xffff, (inst.status === 'warning' ? svc.Weights.Warning : svc.Weights.Passing) | 0));
    let target: string;
    let extra: ReplyRecord[] | null;
    if (svc.Address && svc.Address !== node?.record.Address) {
      // The instance has its own address: the target names that address, and its A/AAAA goes in ADDITIONAL.
      if (inst.ip) {
        target = `${hexOfIp(inst.ip)}.addr.${dc}.${zone}`;
        extra = [makeRecord(target, inst.ip.length === 4 ? TYPE.A : TYPE.AAAA, ttl, inst.ip)];
      } else {
        target = address;
        extra = null;
      }
    } else if (node) {
      target = `${node.record.Node}.node.${dc}.${zone}`;
      extra = nodeExtras(node, target, ttl);
    } else {
      continue;
    }
    answers.push(makeRecord(null, TYPE.SRV, ttl, { priority: 1, weight, port: svc.Port, target }, extra));
  }
  return answers;
}

function resolveService(service: string, tag: string | undefined, qtype: number, zone: string, catalog: DnsCatalog, opts: ResolvedDnsOptions): Reply {
  const list = catalog.instancesOf(service);
  if (!list) return nameError(zone);
  const picked = pickInstances(list, tag, catalog, opts.onlyPassing);
  if (picked.length === 0) return nameError(zone);
  shuffleInPlace(picked);
  const ttl = opts.serviceTtl(list[0]!.record.Service);
  const answers =
    qtype === TYPE.SRV
      ? serviceSrvRecords(picked, zone, ttl, catalog)
      : wantsAddress(qtype)
        ? serviceAddressRecords(picked, qtype, ttl, catalog, opts.aRecordLimit)
        : [];
  return answers.length ? reply(RCODE.NOERROR, answers) : noData(zone);
}

function resolveNode(name: string, qtype: number, zone: string, catalog: DnsCatalog, opts: ResolvedDnsOptions): Reply {
  const node = catalog.node(name);
  if (!node) return nameError(zone);
  const answers: ReplyRecord[] = [];
  const rec = addressRecord(null, node.record.Address, node.ip, qtype, opts.nodeTtl);
  if (rec) answers.push(rec);
  if (qtype === TYPE.TXT || qtype === TYPE.ANY) for (const txt of node.txt) answers.push(makeRecord(null, TYPE.TXT, opts.nodeTtl, txt));
  return answers.length ? reply(RCODE.NOERROR, answers) : noData(zone);
}

/** NS answer and its glue: the agent's own node serves the zone. */
function nameServer(zone: string, catalog: DnsCatalog, ttl: number): { ns: ReplyRecord; glue: ReplyRecord[] } {
  const target = `${catalog.agentNode}.node.${catalog.datacenter}.${zone}`;
  const agent = catalog.node(catalog.agentNode.toLowerCase());
  const glue = agent?.ip ? [makeRecord(target, agent.ip.length === 4 ? TYPE.A : TYPE.AAAA, ttl, agent.ip)] : [];
  return { ns: makeRecord(zone, TYPE.NS, ttl, target), glue };
}

/** PTR targets for an address: its nodes, else the services registered with it as their own address (as Consul). */
function reverseTargets(ip: Uint8Array, zone: string, catalog: DnsCatalog): string[] {
  const targets: string[] = [];
  const same = (other: Uint8Array | undefined): boolean => !!other && other.length === ip.length && other.every((b, i) => b === ip[i]);
  for (const node of catalog.allNodes()) if (same(node.ip)) targets.push(`${node.record.Node}.node.${catalog.datacenter}.${zone}`);
  if (targets.length) return targets;
  for (const inst of catalog.allInstances()) {
    if (!inst.record.Address || !same(parseIp(inst.record.Address))) continue;
    const target = `${inst.record.Service}.service.${zone}`;
    if (!targets.includes(target)) targets.push(target);
  }
  return targets;
}

function resolveReverse(name: string, qtype: number, family: 4 | 6, suffixLength: number, catalog: DnsCatalog, opts: ResolvedDnsOptions): Reply | null {
  const zone = opts.domain;
  const ip = ipOfReverseLabels(name.slice(0, name.length - suffixLength).split('.'), family);
  const targets = ip ? reverseTargets(ip, zone, catalog) : [];
  if (targets.length === 0) return opts.recursors.length ? null : nameError(zone);
  if (qtype !== TYPE.PTR && qtype !== TYPE.ANY) return noData(zone);
  return reply(
    RCODE.NOERROR,
    targets.map((t) => makeRecord(null, TYPE.PTR, opts.nodeTtl, t)),
  );
}

/**
 * Answers one question from the catalog, or returns null when the name is not ours to answer (outside the
 * domains, or a reverse name the catalog does not know while recursors are configured): the caller forwards it
 * to the recursors, or refuses it.
 */
export function resolveQuestion(q: DnsQuestion, catalog: DnsCatalog, opts: ResolvedDnsOptions): Reply | null {
  const { name, type } = q;
  let zone = opts.domain;
  let restLength = prefixLength(name, zone);
  const alt = opts.altDomain;
  if (alt !== undefined) {
    // The longer matching domain wins when one is inside the other.
    const altLength = prefixLength(name, alt);
    if (altLength >= 0 && (restLength < 0 || alt.length > zone.length)) {
      zone = alt;
      restLength = altLength;
    }
  }
  if (restLength < 0) {
    if (name.endsWith('.in-addr.arpa')) return resolveReverse(name, type, 4, 13, catalog, opts);
    if (name.endsWith('.ip6.arpa')) return resolveReverse(name, type, 6, 9, catalog, opts);
    return null;
  }
  if (type === TYPE.AXFR || type === TYPE.IXFR) return { ...reply(RCODE.NOTIMP, []), authoritative: false };
  // As Consul: SOA and NS questions are answered for any name in the domain.
  if (type === TYPE.SOA) {
    const { ns, glue } = nameServer(zone, catalog, opts.nodeTtl);
    return reply(RCODE.NOERROR, [soaRecord(zone)], [ns], glue);
  }
  if (type === TYPE.NS) {
    const { ns, glue } = nameServer(zone, catalog, opts.nodeTtl);
    return reply(RCODE.NOERROR, [ns], [], glue);
  }
  const labels = restLength === 0 ? [] : name.slice(0, restLength).split('.');
  const lookup = parseQueryName(labels, type, catalog.datacenter.toLowerCase());
  switch (lookup.kind) {
    case 'service':
      return resolveService(lookup.service, lookup.tag, type, zone, catalog, opts);
    case 'node':
      return resolveNode(lookup.node, type, zone, catalog, opts);
    case 'addr': {
      const rec = addressRecord(null, '', lookup.ip, type, opts.nodeTtl);
      return rec ? reply(RCODE.NOERROR, [rec]) : noData(zone);
    }
    case 'apex':
      return noData(zone);
    case 'invalid':
      return nameError(zone);
    default: {
      const never: never = lookup;
      return never;
    }
  }
}
