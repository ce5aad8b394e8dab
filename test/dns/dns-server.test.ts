// The DNS server on a real port, asked by dig and by Node's own resolver (c-ares), over UDP and TCP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dnsPromises } from 'node:dns';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';
import { createBusStore } from '../../src/bus/index.js';
import type { BusStore } from '../../src/bus/index.js';
import { createDnsServer } from '../../src/dns/index.js';
import type { DnsServer } from '../../src/dns/index.js';
import { addCheck, addInstance, createFixtureStore, dig, digAvailable, tcpExchange, udpExchange, udpFirstReply } from './support.js';

let store: BusStore;
let server: DnsServer;
let resolver: dnsPromises.Resolver;
const servers: DnsServer[] = [];

async function startServer(opts: Omit<Parameters<typeof createDnsServer>[0], 'port'> & { port?: number }): Promise<DnsServer> {
  const s = await createDnsServer({ port: 0, ...opts });
  servers.push(s);
  return s;
}

before(async () => {
  store = createFixtureStore();
  // Many instances of one service, each on its own address: too many for one UDP answer.
  for (let i = 1; i <= 120; i++) addInstance(store, { id: `big-${i}`, service: 'big', node: `b${i}`, nodeAddress: `127.78.${i >> 8}.${i & 255}`, port: 9000 + i });
  server = await startServer({ store });
  resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${server.port}`]);
});

after(async () => {
  for (const s of servers) await s.close();
});

test('binds UDP and TCP on the same port on 127.0.0.1', async () => {
  assert.equal(server.address, '127.0.0.1');
  assert.ok(server.port > 0);
  const q = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'web.service.consul', type: 'A' }] });
  const udp = await udpExchange(server.port, q);
  assert.ok(udp, 'a UDP answer');
  const [tcp] = await tcpExchange(server.port, [q], 1);
  assert.ok(tcp, 'a TCP answer on the same port');
  assert.equal(dnsPacket.decode(tcp).answers?.length, 3);
});

test('dig: A records for a service, with qr aa rd and no ra', { skip: !digAvailable() && 'dig not installed' }, async () => {
  const r = await dig(server.port, 'web.service.consul', 'A');
  assert.equal(r.status, 'NOERROR', r.raw);
  assert.deepEqual([...r.flags].sort(), ['aa', 'qr', 'rd']);
  assert.deepEqual(r.answer.map((a) => a.data).sort(), ['127.0.1.2', '127.0.1.3', '127.77.0.2']);
  assert.ok(r.answer.every((a) => a.name === 'web.service.consul.' && a.type === 'A' && a.ttl === 0));
});

test('dig: SRV with targets and their addresses in ADDITIONAL', { skip: !digAvailable() && 'dig not installed' }, async () => {
  const r = await dig(server.port, 'web.service.consul', 'SRV');
  assert.equal(r.status, 'NOERROR', r.raw);
  assert.deepEqual(r.answer.map((a) => a.data).sort(), ['1 1 8001 7f4d0002.addr.dc1.consul.', '1 1 8003 m3.node.dc1.consul.', '1 10 8002 m2.node.dc1.consul.']);
  const extra = r.additional.map((a) => `${a.name} ${a.type} ${a.data}`).sort();
  assert.deepEqual(extra, ['7f4d0002.addr.dc1.consul. A 127.77.0.2', 'm2.node.dc1.consul. A 127.0.1.2', 'm3.node.dc1.consul. A 127.0.1.3']);
});

test('dig: tag filter, RFC 2782 form, datacenter label and case-insensitivity', { skip: !digAvailable() && 'dig not installed' }, async () => {
  const tagged = await dig(server.port, 'canary.web.service.consul');
  assert.deepEqual(tagged.answer.map((a) => a.data), ['127.0.1.3']);
  const rfc = await dig(server.port, '_web._v1.service.consul', 'SRV');
  assert.deepEqual(rfc.answer.map((a) => a.data.split(' ')[2]).sort(), ['8001', '8002']);
  const tcpForm = await dig(server.port, '_web._tcp.service.dc1.consul', 'SRV');
  assert.equal(tcpForm.answer.length, 3);
  const dc = await dig(server.port, 'web.service.dc1.dc.consul');
  assert.equal(dc.answer.length, 3);
  const otherDc = await dig(server.port, 'web.service.dc9.consul');
  assert.equal(otherDc.status, 'NXDOMAIN');
  const upper = await dig(server.port, 'WeB.SeRvIcE.CoNsUl');
  assert.equal(upper.answer.length, 3);
  assert.equal(upper.answer[0]!.name, 'WeB.SeRvIcE.CoNsUl.', 'the answer keeps the case that was asked');
});

test('dig: node lookup gives A, and TXT from node meta', { skip: !digAvailable() && 'dig not installed' }, async () => {
  const a = await dig(server.port, 'm1.node.consul');
  assert.deepEqual(a.answer.map((r) => `${r.type} ${r.data}`), ['A 127.0.1.1']);
  const txt = await dig(server.port, 'm1.node.dc1.consul', 'TXT');
  assert.deepEqual(txt.answer.map((r) => r.data).sort(), ['"plain text"', '"rack=r1"']);
  const any = await dig(server.port, 'm1.node.consul', 'ANY');
  assert.deepEqual(any.answer.map((r) => r.type).sort(), ['A', 'TXT', 'TXT']);
});

test('dig: NXDOMAIN with the SOA, and NODATA (AAAA of an IPv4 service) with the SOA', { skip: !digAvailable() && 'dig not installed' }, async () => {
  const nx = await dig(server.port, 'nope.service.consul');
  assert.equal(nx.status, 'NXDOMAIN');
  assert.equal(nx.answer.length, 0);
  assert.equal(nx.authority.length, 1);
  const [soa] = nx.authority;
  assert.equal(soa!.name, 'consul.');
  assert.equal(soa!.type, 'SOA');
  assert.equal(soa!.ttl, 0);
  assert.match(soa!.data, /^ns\.consul\. hostmaster\.consul\. \d+ 3600 600 86400 0$/);
  const nodata = await dig(server.port, 'web.service.consul', 'AAAA');
  assert.equal(nodata.status, 'NOERROR');
  assert.equal(nodata.answer.length, 0);
  assert.equal(nodata.authority[0]?.type, 'SOA');
});

test('dig: a critical instance is left out, a warning one stays, and changes show at once', { skip: !digAvailable() && 'dig not installed' }, async () => {
  const api = await dig(server.port, 'api.service.consul');
  assert.deepEqual(api.answer.map((a) => a.data), ['127.77.0.6'], 'api-1 is critical, api-2 warning');
  const srv = await dig(server.port, 'api.service.consul', 'SRV');
  assert.deepEqual(srv.answer.map((a) => a.data), ['1 3 9000 7f4d0006.addr.dc1.consul.'], 'warning weight');
  addCheck(store, 'db-1-http', 'm4', 'db-1', 'db', 'passing');
  assert.equal((await dig(server.port, 'db.service.consul')).answer.length, 1);
  store.updateCheck('db-1-http', 'critical', 'connection refused');
  const gone = await dig(server.port, 'db.service.consul');
  assert.equal(gone.status, 'NXDOMAIN', 'no healthy instance left');
  assert.equal(gone.authority[0]?.type, 'SOA');
  store.updateCheck('db-1-http', 'passing', 'ok');
  assert.equal((await dig(server.port, 'db.service.consul')).answer.length, 1);
});

test('dig: a UDP answer too big for the client is cut with TC; over TCP it is whole', { skip: !digAvailable() && 'dig not installed' }, async () => {
  // Without EDNS the limit is 512 bytes; dig's default EDNS size (1232) is exceeded by 120 A records too.
  const plain = await dig(server.port, 'big.service.consul', '+noedns', '+ignore');
  assert.ok(plain.flags.has('tc'), `TC set: ${[...plain.flags].join(' ')}`);
  assert.ok(plain.answer.length > 0 && plain.answer.length < 120, `cut to ${plain.answer.length}`);
  const edns = await dig(server.port, 'big.service.consul', '+ignore');
  assert.ok(edns.flags.has('tc'));
  assert.ok(edns.answer.length > plain.answer.length, 'a larger EDNS size carries more answers');
  const tcp = await dig(server.port, 'big.service.consul', '+tcp');
  assert.ok(!tcp.flags.has('tc'));
  assert.equal(tcp.answer.length, 120);
  // Without +ignore dig retries over TCP by itself on TC, and gets everything.
  const retried = await dig(server.port, 'big.service.consul', 'SRV');
  assert.equal(retried.answer.length, 120);
  assert.equal(retried.additional.length, 120);
});

test('Node resolver: A, SRV, TXT, NXDOMAIN and NODATA', async () => {
  assert.deepEqual((await resolver.resolve4('web.service.consul')).sort(), ['127.0.1.2', '127.0.1.3', '127.77.0.2']);
  const srv = await resolver.resolveSrv('_web._tcp.service.consul');
  assert.deepEqual(srv.map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name}`).sort(), ['1 1 8001 7f4d0002.addr.dc1.consul', '1 1 8003 m3.node.dc1.consul', '1 10 8002 m2.node.dc1.consul']);
  assert.deepEqual((await resolver.resolveTxt('m1.node.consul')).map((t) => t.join('')).sort(), ['plain text', 'rack=r1']);
  assert.deepEqual(await resolver.resolve6('six.service.consul'), ['::1']);
  await assert.rejects(resolver.resolve4('nope.service.consul'), { code: 'ENOTFOUND' });
  await assert.rejects(resolver.resolve6('web.service.consul'), { code: 'ENODATA' });
});

test('Node resolver: a truncated UDP answer is retried over TCP and arrives whole', async () => {
  const all = await resolver.resolve4('big.service.consul');
  assert.equal(all.length, 120);
});

test('shuffling: over many queries the order of answers differs at least once', async () => {
  const orders = new Set<string>();
  for (let i = 0; i < 50 && orders.size < 2; i++) orders.add((await resolver.resolve4('web.service.consul')).join(','));
  assert.ok(orders.size >= 2, `always ${[...orders][0]}`);
});

test('malformed packets get FORMERR (or nothing), and the server keeps serving', async () => {
  // A header that promises a question, then stops.
  const cut = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x03, 0x77]);
  const reply = await udpExchange(server.port, cut);
  assert.ok(reply, 'a reply to a malformed query');
  assert.equal(reply.readUInt16BE(0), 0x1234, 'same id');
  assert.equal(reply[3]! & 0x0f, 1, 'FORMERR');
  assert.ok(reply[2]! & 0x80, 'QR');
  // Two questions: FORMERR too.
  const two = dnsPacket.encode({ type: 'query', id: 9, questions: [{ name: 'a.consul', type: 'A' }, { name: 'b.consul', type: 'A' }] });
  assert.equal((await udpExchange(server.port, two))![3]! & 0x0f, 1);
  // An opcode other than QUERY: NOTIMP.
  const status = Buffer.from(dnsPacket.encode({ type: 'query', id: 10, questions: [{ name: 'web.service.consul', type: 'A' }] }));
  status.writeUInt16BE(2 << 11, 2);
  assert.equal((await udpExchange(server.port, status))![3]! & 0x0f, 4);
  // Garbage shorter than a header, and a response, get no answer at all: the first reply is to the query sent after them.
  const response = dnsPacket.encode({ type: 'response', id: 11, questions: [{ name: 'web.service.consul', type: 'A' }] });
  const probe = dnsPacket.encode({ type: 'query', id: 13, questions: [{ name: 'web.service.consul', type: 'A' }] });
  const first = await udpFirstReply(server.port, [Buffer.from([1, 2, 3]), response, probe]);
  assert.equal(first?.readUInt16BE(0), 13);
  // A malformed TCP frame gets FORMERR on the same connection, which then still answers.
  const good = dnsPacket.encode({ type: 'query', id: 12, questions: [{ name: 'web.service.consul', type: 'A' }] });
  const replies = await tcpExchange(server.port, [cut, good], 2);
  assert.equal(replies.length, 2);
  assert.equal(replies[0]![3]! & 0x0f, 1);
  assert.equal(dnsPacket.decode(replies[1]!).answers?.length, 3);
  assert.deepEqual((await resolver.resolve4('web.service.consul')).length, 3, 'still serving');
});

test('TCP: many queries on one connection, each answered', async () => {
  const frames = Array.from({ length: 20 }, (_, i) => dnsPacket.encode({ type: 'query', id: 100 + i, questions: [{ name: i % 2 ? 'web.service.consul' : 'm1.node.consul', type: 'A' }] }));
  const replies = await tcpExchange(server.port, frames, 20);
  assert.equal(replies.length, 20);
  const ids = replies.map((r) => r.readUInt16BE(0)).sort((a, b) => a - b);
  assert.deepEqual(ids, frames.map((_, i) => 100 + i));
});

test('names outside the domain: REFUSED without recursors; forwarded to recursors in order when configured', { skip: !digAvailable() && 'dig not installed' }, async () => {
  const refused = await dig(server.port, 'example.com');
  assert.equal(refused.status, 'REFUSED');
  assert.ok(!refused.flags.has('ra'));
  // An upstream that serves another domain, behind a recursor that never answers: sequential, each with its timeout.
  const upstreamStore = createBusStore({ nodeName: 'up', nodeAddress: '127.0.0.1', datacenter: 'east' });
  addInstance(upstreamStore, { id: 'pay-1', service: 'pay', node: 'p1', nodeAddress: '127.79.0.1' });
  const upstream = await startServer({ store: upstreamStore, domain: 'upstream' });
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
  try {
    const front = await startServer({ store, recursors: [`127.0.0.1:${silent.address().port}`, `127.0.0.1:${upstream.port}`], recursorTimeout: 0.3 });
    const viaUdp = await dig(front.port, 'pay.service.upstream');
    assert.equal(viaUdp.status, 'NOERROR', viaUdp.raw);
    assert.deepEqual(viaUdp.answer.map((a) => a.data), ['127.79.0.1']);
    const viaTcp = await dig(front.port, 'pay.service.upstream', '+tcp');
    assert.deepEqual(viaTcp.answer.map((a) => a.data), ['127.79.0.1']);
    // Its own names still come from its own store, with RA now set.
    const own = await dig(front.port, 'web.service.consul');
    assert.ok(own.flags.has('ra'));
    assert.equal(own.answer.length, 3);
    // When every recursor fails: SERVFAIL.
    const dead = await startServer({ store, recursors: [`127.0.0.1:${silent.address().port}`], recursorTimeout: 0.2 });
    const failed = await dig(dead.port, 'example.com');
    assert.equal(failed.status, 'SERVFAIL');
  } finally {
    silent.close();
  }
});

test('a port taken over UDP or TCP is an ERR_PORT_IN_USE error naming it; port 0 always finds one free for both', async () => {
  const udpHolder = createSocket('udp4');
  await new Promise<void>((resolve) => udpHolder.bind(0, '127.0.0.1', () => resolve()));
  const tcpHolder = createServer();
  await new Promise<void>((resolve) => tcpHolder.listen(0, '127.0.0.1', () => resolve()));
  try {
    const udpPort = udpHolder.address().port;
    await assert.rejects(createDnsServer({ store, port: udpPort }), (err: Error & { code?: string }) => err.code === 'ERR_PORT_IN_USE' && err.message.includes(String(udpPort)));
    const tcpPort = (tcpHolder.address() as AddressInfo).port;
    await assert.rejects(createDnsServer({ store, port: tcpPort }), { code: 'ERR_PORT_IN_USE' });
    const free = await startServer({ store });
    assert.notEqual(free.port, udpPort);
  } finally {
    udpHolder.close();
    tcpHolder.close();
  }
});

test('close is safe to call twice, and frees the port', async () => {
  const s = await createDnsServer({ store, port: 0 });
  await s.close();
  await s.close();
  const again = await startServer({ store, port: s.port });
  assert.equal(again.port, s.port);
});
