// The wire layer on its own: reading queries (malformed ones included) and writing replies within a size limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import type { SrvAnswer } from 'dns-packet';
import { readQuery } from '../../src/dns/read-query.js';
import type { WireQuery } from '../../src/dns/read-query.js';
import { ReplyWriter } from '../../src/dns/write-reply.js';
import { makeRecord } from '../../src/dns/dns-reply.js';
import type { Reply } from '../../src/dns/dns-reply.js';
import { TYPE } from '../../src/dns/dns-constants.js';
import { formatIp, hexOfIp, ipOfHex, ipOfReverseLabels, parseIp } from '../../src/dns/ip-bytes.js';

function query(name: string, type: 'A' | 'SRV' = 'A', udpPayloadSize?: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 77,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type }],
    additionals: udpPayloadSize ? [{ name: '.', type: 'OPT', udpPayloadSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  });
}

function read(msg: Buffer): WireQuery {
  const q = readQuery(msg);
  assert.ok(q.ok, 'a well-formed query');
  return q;
}

test('readQuery folds the name to lower case and reads type, id, RD and the EDNS0 size', () => {
  const q = read(query('Web.SERVICE.consul', 'SRV', 1232));
  assert.equal(q.name, 'web.service.consul');
  assert.equal(q.type, TYPE.SRV);
  assert.equal(q.id, 77);
  assert.ok(q.flags & 0x0100);
  assert.equal(q.edns, true);
  assert.equal(q.udpLimit, 1232);
  assert.equal(read(query('a.consul')).udpLimit, 512);
  assert.equal(read(query('a.consul', 'A', 100)).udpLimit, 512, 'never below 512');
});

test('readQuery rejects what it cannot answer', () => {
  const ok = query('web.service.consul');
  assert.deepEqual(readQuery(Buffer.from([1, 2, 3])), { ok: false, rcode: 'drop', id: 0x0102, flags: 0 });
  const response = Buffer.from(ok);
  response[2]! |= 0x80;
  assert.equal((readQuery(response) as { rcode: string }).rcode, 'drop');
  const update = Buffer.from(ok);
  update.writeUInt16BE(5 << 11, 2);
  assert.equal((readQuery(update) as { rcode: string }).rcode, 'NOTIMP');
  for (let cut = 12; cut < ok.length; cut++) assert.equal((readQuery(ok.subarray(0, cut)) as { rcode: string }).rcode, 'FORMERR', `cut at ${cut}`);
  const noQuestion = Buffer.from(ok);
  noQuestion.writeUInt16BE(0, 4);
  assert.equal((readQuery(noQuestion) as { rcode: string }).rcode, 'FORMERR');
  const pointer = Buffer.concat([ok.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
  assert.equal((readQuery(pointer) as { rcode: string }).rcode, 'FORMERR');
  const lyingOpt = Buffer.from(query('a.consul', 'A', 1232));
  lyingOpt.writeUInt16BE(200, lyingOpt.length - 2); // OPT rdlength past the end
  assert.equal((readQuery(lyingOpt) as { rcode: string }).rcode, 'FORMERR');
});

test('ReplyWriter: answers that do not fit are cut and TC set; additional records are dropped without TC', () => {
  const writer = new ReplyWriter();
  const msg = query('big.service.consul', 'SRV');
  const q = read(msg);
  const answers = Array.from({ length: 60 }, (_, i) => {
    const target = `node-${i}.node.dc1.consul`;
    return makeRecord(null, TYPE.SRV, 0, { priority: 1, weight: 1, port: 1000 + i, target }, [makeRecord(target, TYPE.A, 0, new Uint8Array([127, 0, 0, i]))]);
  });
  const reply: Reply = { rcode: 0, authoritative: true, answers, authority: [], additional: [] };
  const udp = writer.write(msg, q, reply, { limit: 512, setTruncated: true, recursionAvailable: false, framed: false });
  assert.ok(udp.length <= 512, `${udp.length} bytes`);
  const cut = dnsPacket.decode(udp);
  assert.ok(cut.flag_tc);
  assert.ok(cut.answers!.length > 0 && cut.answers!.length < 60);
  assert.equal(cut.questions![0]!.name, 'big.service.consul');
  const noTc = dnsPacket.decode(writer.write(msg, q, reply, { limit: 512, setTruncated: false, recursionAvailable: false, framed: false }));
  assert.ok(!noTc.flag_tc, 'enableTruncate off: cut silently (Consul default)');
  const tcp = writer.write(msg, q, reply, { limit: 65535, setTruncated: true, recursionAvailable: true, framed: true });
  assert.equal(tcp.readUInt16BE(0), tcp.length - 2);
  const whole = dnsPacket.decode(tcp.subarray(2));
  assert.ok(!whole.flag_tc && whole.flag_ra && whole.flag_aa && whole.flag_rd);
  assert.equal(whole.answers!.length, 60);
  assert.equal(whole.additionals!.length, 60);
  assert.deepEqual((whole.answers![7] as SrvAnswer).data, { priority: 1, weight: 1, port: 1007, target: 'node-7.node.dc1.consul' });
  assert.equal(whole.additionals![7]!.name, 'node-7.node.dc1.consul');
  // Compression keeps each additional record's name to a pointer into the SRV target.
  assert.ok(tcp.length < 60 * (12 + 6 + 25) + 60 * (2 + 10 + 4) + 60, `${tcp.length} bytes`);
});

test('ReplyWriter echoes EDNS0 with an OPT record and keeps the whole message within the client size', () => {
  const writer = new ReplyWriter();
  const msg = query('many.service.consul', 'A', 1232);
  const q = read(msg);
  const answers = Array.from({ length: 200 }, (_, i) => makeRecord(null, TYPE.A, 0, new Uint8Array([10, 0, i >> 8, i & 255])));
  const out = writer.write(msg, q, { rcode: 0, authoritative: true, answers, authority: [], additional: [] }, { limit: q.udpLimit, setTruncated: true, recursionAvailable: false, framed: false });
  assert.ok(out.length <= 1232);
  const decoded = dnsPacket.decode(out);
  assert.ok(decoded.flag_tc);
  assert.equal(decoded.additionals!.at(-1)!.type, 'OPT');
  assert.ok(decoded.answers!.length > 0 && out.length + 16 > 1232, `as many answers as fit: ${decoded.answers!.length} in ${out.length} bytes`);
});

test('addresses: parse and format v4/v6, the addr hex form and reverse names', () => {
  assert.deepEqual([...parseIp('127.77.0.2')!], [127, 77, 0, 2]);
  assert.equal(hexOfIp(parseIp('127.77.0.2')!), '7f4d0002');
  assert.equal(formatIp(ipOfHex('7f4d0002')!), '127.77.0.2');
  assert.equal(formatIp(parseIp('2001:db8::1')!), '2001:db8::1');
  assert.equal(formatIp(parseIp('::ffff:127.0.0.1')!), '::ffff:127.0.0.1' /* RFC 5952 §5: IPv4-mapped addresses in mixed notation */);
  assert.equal(hexOfIp(parseIp('::1')!), '0'.repeat(31) + '1');
  assert.equal(parseIp('web.example'), undefined);
  assert.equal(parseIp(''), undefined);
  assert.equal(ipOfHex('7f4d00'), undefined);
  assert.equal(formatIp(ipOfReverseLabels(['2', '0', '77', '127'], 4)!), '127.77.0.2');
  assert.equal(ipOfReverseLabels(['256', '0', '77', '127'], 4), undefined);
  assert.equal(formatIp(ipOfReverseLabels(['1', ...'0'.repeat(31)], 6)!), '::1');
});
