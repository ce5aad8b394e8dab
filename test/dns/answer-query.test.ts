// answerQuery without sockets: name forms, health filtering, negative answers, options — the same resolver the server uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer, Packet, RecordType, SrvAnswer } from 'dns-packet';
import { answerQuery } from '../../src/dns/index.js';
import type { DnsAnswer, DnsAnswerOptions } from '../../src/dns/index.js';
import type { BusStore } from '../../src/bus/index.js';
import { addCheck, addInstance, createFixtureStore } from './support.js';

const RD = 0x0100;

// dns-packet encodes ANY (255) though its type list leaves it out.
function ask(store: BusStore, name: string, type: RecordType | 'ANY' = 'A', opts: DnsAnswerOptions = {}): DnsAnswer {
  const query: Packet = { type: 'query', id: 42, flags: RD, questions: [{ name, type: type as RecordType, class: 'IN' }] };
  return answerQuery(query, store, opts);
}

const datas = (answers: Answer[] | undefined, type?: string): string[] =>
  (answers ?? []).filter((a) => !type || a.type === type).map((a) => (typeof (a as { data: unknown }).data === 'string' ? ((a as { data: string }).data) : JSON.stringify((a as { data: unknown }).data))).sort();

function assertSoa(reply: DnsAnswer, zone = 'consul'): void {
  assert.equal(reply.authorities?.length, 1, 'one SOA in AUTHORITY');
  const soa = reply.authorities![0]!;
  assert.equal(soa.type, 'SOA');
  assert.equal(soa.name, zone);
  assert.equal((soa as { ttl?: number }).ttl, 0);
  const data = (soa as { data: { mname: string; rname: string; refresh: number; retry: number; expire: number; minimum: number } }).data;
  assert.deepEqual({ ...data, serial: undefined }, { mname: `ns.${zone}`, rname: `hostmaster.${zone}`, serial: undefined, refresh: 3600, retry: 600, expire: 86400, minimum: 0 });
}

test('A for a service: one record per healthy instance, instance address else node address; flags QR AA, RD echoed, no RA', () => {
  const store = createFixtureStore();
  const r = ask(store, 'web.service.consul');
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.type, 'response');
  assert.equal(r.id, 42);
  assert.ok(r.flags! & 0x0400, 'AA');
  assert.ok(r.flags! & RD, 'RD echoed');
  assert.equal(r.flags! & 0x0080, 0, 'no RA without recursors');
  assert.deepEqual(datas(r.answers), ['127.0.1.2', '127.0.1.3', '127.77.0.2']);
  for (const a of r.answers!) {
    assert.equal(a.name, 'web.service.consul');
    assert.equal((a as { ttl?: number }).ttl, 0);
  }
  assert.deepEqual(r.additionals, []);
});

test('names are case-insensitive, with or without a trailing dot, and answer with the name as asked', () => {
  const store = createFixtureStore();
  for (const name of ['WEB.Service.CONSUL', 'web.service.consul.', 'Web.SERVICE.Consul.']) {
    const r = ask(store, name);
    assert.equal(r.rcode, 'NOERROR', name);
    assert.equal(r.answers!.length, 3, name);
    assert.equal(r.answers![0]!.name, name, 'the answer repeats the question name');
  }
  assert.equal(ask(store, 'PRIMARY.web.service.consul').answers!.length, 1);
});

test('SRV: priority 1, weight by status, node target with the node A (and meta TXT) in ADDITIONAL, addr target for an own address', () => {
  const store = createFixtureStore();
  const r = ask(store, 'web.service.consul', 'SRV');
  assert.equal(r.rcode, 'NOERROR');
  const byPort = new Map(r.answers!.map((a) => [(a as SrvAnswer).data.port, (a as SrvAnswer).data]));
  assert.deepEqual(byPort.get(8001), { priority: 1, weight: 1, port: 8001, target: '7f4d0002.addr.dc1.consul' });
  assert.deepEqual(byPort.get(8002), { priority: 1, weight: 10, port: 8002, target: 'm2.node.dc1.consul' });
  // web-3's address equals its node's: the node name is the target.
  assert.deepEqual(byPort.get(8003), { priority: 1, weight: 1, port: 8003, target: 'm3.node.dc1.consul' });
  const extra = r.additionals!.map((a) => `${a.name} ${a.type} ${(a as { data: unknown }).data}`).sort();
  assert.deepEqual(extra, ['7f4d0002.addr.dc1.consul A 127.77.0.2', 'm2.node.dc1.consul A 127.0.1.2', 'm3.node.dc1.consul A 127.0.1.3']);
  // A node with meta adds its TXT records beside its A.
  store.registerNode({ Node: 'm2', Address: '127.0.1.2', Meta: { zone: 'a' } });
  const withMeta = ask(store, 'web.service.consul', 'SRV');
  assert.ok(withMeta.additionals!.some((a) => a.name === 'm2.node.dc1.consul' && a.type === 'TXT' && a.data === 'zone=a'));
});

test('SRV weight is Weights.Warning for an instance in warning; A/AAAA only for ANY', () => {
  const store = createFixtureStore();
  const r = ask(store, 'api.service.consul', 'SRV');
  assert.equal(r.answers!.length, 1, 'the critical instance is left out');
  assert.deepEqual((r.answers![0] as SrvAnswer).data, { priority: 1, weight: 3, port: 9000, target: '7f4d0006.addr.dc1.consul' });
  const any = ask(store, 'web.service.consul', 'ANY');
  assert.deepEqual([...new Set(any.answers!.map((a) => a.type))], ['A']);
});

test('health: critical instances are omitted, warning ones included unless onlyPassing; node checks count too', () => {
  const store = createFixtureStore();
  assert.deepEqual(datas(ask(store, 'api.service.consul').answers), ['127.77.0.6']);
  const strict = ask(store, 'api.service.consul', 'A', { onlyPassing: true });
  assert.equal(strict.rcode, 'NXDOMAIN', 'no passing instance: NXDOMAIN');
  assertSoa(strict);
  // The index follows the store: a check turning critical removes the instance at once, recovering brings it back.
  addCheck(store, 'web-2-http', 'm2', 'web-2', 'web', 'passing');
  store.updateCheck('web-2-http', 'critical', 'down');
  assert.deepEqual(datas(ask(store, 'web.service.consul').answers), ['127.0.1.3', '127.77.0.2']);
  store.updateCheck('web-2-http', 'passing', 'up');
  assert.deepEqual(datas(ask(store, 'web.service.consul').answers), ['127.0.1.2', '127.0.1.3', '127.77.0.2']);
  // A node-level check (no ServiceID) that is critical takes every instance on that node out.
  addCheck(store, 'serf-m3', 'm3', '', '', 'critical');
  assert.deepEqual(datas(ask(store, 'web.service.consul').answers), ['127.0.1.2', '127.77.0.2']);
  store.deregisterCheck('serf-m3');
  assert.equal(ask(store, 'web.service.consul').answers!.length, 3);
  // Deregistration and new registrations show up too.
  store.deregisterService('web-1');
  addInstance(store, { id: 'web-9', service: 'web', node: 'm9', nodeAddress: '127.0.1.9' });
  assert.deepEqual(datas(ask(store, 'web.service.consul').answers), ['127.0.1.2', '127.0.1.3', '127.0.1.9']);
});

test('tag filter (case-insensitive), RFC 2782 forms with "tcp" meaning no tag', () => {
  const store = createFixtureStore();
  assert.deepEqual(datas(ask(store, 'v1.web.service.consul').answers), ['127.0.1.2', '127.77.0.2']);
  assert.deepEqual(datas(ask(store, 'Canary.web.service.consul').answers), ['127.0.1.3']);
  assert.equal(ask(store, 'nope.web.service.consul').rcode, 'NXDOMAIN');
  assert.equal(ask(store, '_web._tcp.service.consul', 'SRV').answers!.length, 3);
  assert.equal(ask(store, '_web._v1.service.consul', 'SRV').answers!.length, 2);
  // The "service" label is optional in the RFC 2782 form of an SRV question, and a datacenter may follow.
  assert.equal(ask(store, '_web._tcp.consul', 'SRV').answers!.length, 3);
  assert.equal(ask(store, '_web._canary.dc1.consul', 'SRV').answers!.length, 1);
  assert.equal(ask(store, '_web._tcp.service.consul', 'A').answers!.length, 3);
});

test('datacenter label: optional, must be ours, also in the <dc>.dc form', () => {
  const store = createFixtureStore();
  assert.equal(ask(store, 'web.service.dc1.consul').answers!.length, 3);
  assert.equal(ask(store, 'web.service.DC1.dc.consul').answers!.length, 3);
  assert.equal(ask(store, 'm1.node.dc1.consul').answers!.length, 1);
  assert.equal(ask(store, 'web.service.dc2.consul').rcode, 'NXDOMAIN');
  assert.equal(ask(store, 'web.service.dc1.extra.consul').rcode, 'NXDOMAIN');
});

test('node lookups: A/AAAA of its address, TXT from meta for TXT and ANY (rfc1035- keys give the value only)', () => {
  const store = createFixtureStore();
  assert.deepEqual(datas(ask(store, 'm1.node.consul').answers), ['127.0.1.1']);
  const txt = ask(store, 'm1.node.consul', 'TXT');
  assert.deepEqual(datas(txt.answers), ['plain text', 'rack=r1']);
  const any = ask(store, 'M1.node.consul', 'ANY');
  assert.deepEqual(any.answers!.map((a) => a.type).sort(), ['A', 'TXT', 'TXT']);
  assert.deepEqual(datas(ask(store, 'm7.node.consul', 'AAAA').answers), ['::1']);
  const missing = ask(store, 'nope.node.consul');
  assert.equal(missing.rcode, 'NXDOMAIN');
  assertSoa(missing);
});

test('NXDOMAIN with SOA for unknown names; NODATA (NOERROR, SOA, no answers) when the name exists but not the type', () => {
  const store = createFixtureStore();
  for (const name of ['nope.service.consul', 'web.nothing.consul', 'service.consul', 'x.y.z.consul']) {
    const r = ask(store, name);
    assert.equal(r.rcode, 'NXDOMAIN', name);
    assert.equal(r.flags! & 0xf, 3);
    assert.deepEqual(r.answers, []);
    assertSoa(r);
  }
  const aaaa = ask(store, 'web.service.consul', 'AAAA');
  assert.equal(aaaa.rcode, 'NOERROR');
  assert.deepEqual(aaaa.answers, []);
  assertSoa(aaaa);
  assert.equal(ask(store, 'web.service.consul', 'MX').rcode, 'NOERROR');
  assert.equal(ask(store, 'm1.node.consul', 'AAAA').rcode, 'NOERROR');
  assert.deepEqual(datas(ask(store, 'six.service.consul', 'AAAA').answers), ['::1']);
  assert.equal(ask(store, 'six.service.consul', 'A').answers!.length, 0);
});

test('addr lookups: 8 hex digits give A, 32 give AAAA', () => {
  const store = createFixtureStore();
  assert.deepEqual(datas(ask(store, '7f4d0002.addr.dc1.consul').answers), ['127.77.0.2']);
  assert.deepEqual(datas(ask(store, '7F4D0002.addr.consul').answers), ['127.77.0.2']);
  assert.deepEqual(datas(ask(store, '00000000000000000000000000000001.addr.dc1.consul', 'AAAA').answers), ['::1']);
  assert.equal(ask(store, '7f4d0002.addr.dc1.consul', 'AAAA').rcode, 'NOERROR');
  assert.equal(ask(store, 'zz4d0002.addr.dc1.consul').rcode, 'NXDOMAIN');
  assert.equal(ask(store, '7f4d00.addr.dc1.consul').rcode, 'NXDOMAIN');
});

test('PTR: node addresses name the node, service addresses name the service', () => {
  const store = createFixtureStore();
  assert.deepEqual(datas(ask(store, '1.1.0.127.in-addr.arpa', 'PTR').answers), ['m1.node.dc1.consul']);
  assert.deepEqual(datas(ask(store, '2.0.77.127.in-addr.arpa', 'PTR').answers), ['web.service.consul']);
  assert.equal(ask(store, '9.9.9.10.in-addr.arpa', 'PTR').rcode, 'NXDOMAIN');
  const v6 = `${'1.'}${'0.'.repeat(31)}ip6.arpa`;
  assert.deepEqual(datas(ask(store, v6, 'PTR').answers), ['m7.node.dc1.consul']);
});

test('names outside the domain: REFUSED without recursors (as Consul), never AA', () => {
  const store = createFixtureStore();
  const r = ask(store, 'example.com');
  assert.equal(r.rcode, 'REFUSED');
  assert.equal(r.flags! & 0x0400, 0);
  assert.equal(ask(store, 'consulx').rcode, 'REFUSED');
  // With recursors configured RA is set; answerQuery cannot forward, so it says SERVFAIL for outside names.
  const ra = ask(store, 'web.service.consul', 'A', { recursors: ['127.0.0.1:1'] });
  assert.ok(ra.flags! & 0x0080);
  assert.equal(ask(store, 'example.com', 'A', { recursors: ['127.0.0.1:1'] }).rcode, 'SERVFAIL');
});

test('SOA and NS for any name in the domain name the agent node; AXFR is not implemented', () => {
  const store = createFixtureStore();
  const soa = ask(store, 'consul', 'SOA');
  assert.equal(soa.rcode, 'NOERROR');
  assert.equal(soa.answers![0]!.type, 'SOA');
  assert.deepEqual(datas(soa.authorities, 'NS'), ['agent.node.dc1.consul']);
  assert.deepEqual(datas(soa.additionals), ['127.0.0.1']);
  assert.deepEqual(datas(ask(store, 'consul', 'NS').answers), ['agent.node.dc1.consul']);
  assert.equal(ask(store, 'consul', 'AXFR').rcode, 'NOTIMP');
  assert.equal(ask(store, 'consul', 'A').rcode, 'NOERROR', 'the apex exists: NODATA');
});

test('options: custom domain and alt domain, TTLs by node and service (exact, prefix*, *), aRecordLimit', () => {
  const store = createFixtureStore();
  const opts: DnsAnswerOptions = { domain: 'Machine.Room.', altDomain: 'mr', ttl: { node: 7, service: { web: 30, 'd*': 20, '*': 5 } }, aRecordLimit: 2 };
  assert.equal(ask(store, 'web.service.consul', 'A', opts).rcode, 'REFUSED');
  const web = ask(store, 'web.service.machine.room', 'A', opts);
  assert.equal(web.answers!.length, 2, 'aRecordLimit');
  assert.ok(web.answers!.every((a) => (a as { ttl?: number }).ttl === 30));
  assert.equal((ask(store, 'db.service.mr', 'A', opts).answers![0] as { ttl?: number }).ttl, 20);
  assert.equal((ask(store, 'api.service.mr', 'A', opts).answers![0] as { ttl?: number }).ttl, 5);
  assert.equal((ask(store, 'm1.node.mr', 'A', opts).answers![0] as { ttl?: number }).ttl, 7);
  const srv = ask(store, 'web.service.mr', 'SRV', opts);
  assert.equal(srv.answers!.length, 3, 'aRecordLimit does not cut SRV');
  assert.ok(srv.answers!.every((a) => (a as SrvAnswer).data.target.endsWith('.dc1.mr')), 'targets use the domain that was asked');
  const nx = ask(store, 'nope.service.mr', 'A', opts);
  assertSoa(nx, 'mr');
});

test('malformed queries: no question or two questions get FORMERR; other opcodes NOTIMP', () => {
  const store = createFixtureStore();
  assert.equal(answerQuery({ type: 'query', id: 1, questions: [] }, store).rcode, 'FORMERR');
  const two: Packet = { type: 'query', id: 1, questions: [{ name: 'web.service.consul', type: 'A' }, { name: 'db.service.consul', type: 'A' }] };
  assert.equal(answerQuery(two, store).rcode, 'FORMERR');
  const notify: Packet = { type: 'query', id: 1, flags: 4 << 11, questions: [{ name: 'web.service.consul', type: 'A' }] };
  assert.equal(answerQuery(notify, store).rcode, 'NOTIMP');
});

test('answers are shuffled per query (Fisher-Yates): over many queries the order differs at least once', () => {
  const store = createFixtureStore();
  const orders = new Set<string>();
  const firsts = new Set<string>();
  for (let i = 0; i < 200 && (orders.size < 2 || firsts.size < 3); i++) {
    const data = ask(store, 'web.service.consul').answers!.map((a) => (a as { data: string }).data);
    orders.add(data.join(','));
    firsts.add(data[0]!);
  }
  assert.ok(orders.size >= 2, `orders seen: ${[...orders].join(' | ')}`);
  assert.equal(firsts.size, 3, 'every instance comes first sometimes');
});
