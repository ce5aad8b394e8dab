// `machineroom services` (what the bus's catalog holds, with health) and `machineroom resolve NAME` (what its DNS answers).
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { Packet, Answer } from 'dns-packet';
import { MachineroomError, EXIT_FAILURE, EXIT_OK } from '../errors/index.js';
import { createBusHttpClient } from '../client/index.js';
import type { Verb } from './args.js';
import { flag, str } from './args.js';
import { requireDaemon } from './project.js';
import { paint, table, useColor } from './output.js';

/** `services` */
export const servicesVerb: Verb = {
  name: 'services',
  summary: "List the services in the bus's catalog: instances, how many pass their checks, tags and addresses.",
  usage: 'services [--json]',
  options: { json: { type: 'boolean', description: 'print JSON' }, 'any-version': { type: 'boolean', description: 'talk to a daemon of another version' } },
  async run(args) {
    const { record } = await requireDaemon(args);
    const bus = createBusHttpClient(`http://${record.apiHost}:${record.apiPort}`);
    const names = Object.keys(await bus.catalogServices()).sort();
    const rows = await Promise.all(
      names.map(async (name) => {
        const entries = await bus.healthService(name);
        const passing = entries.filter((e) => e.Checks.every((c) => c.Status === 'passing')).length;
        const tags = [...new Set(entries.flatMap((e) => e.Service.Tags))];
        const addrs = entries.map((e) => `${e.Service.Address || e.Node.Address}:${e.Service.Port}`);
        return { name, instances: entries.length, passing, tags, addrs };
      }),
    );
    if (flag(args, 'json')) {
      process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      return EXIT_OK;
    }
    const color = useColor();
    process.stdout.write(
      table(
        ['SERVICE', 'INSTANCES', 'PASSING', 'TAGS', 'ADDRESSES'],
        rows.map((r) => [r.name, String(r.instances), paint(String(r.passing), r.passing === r.instances ? 'green' : 'yellow', color), r.tags.join(',') || '-', r.addrs.join(' ')]),
        color,
      ) + '\n',
    );
    return EXIT_OK;
  },
};

type DnsPacketModule = typeof import('dns-packet');

function queryUdp(dnsPacket: DnsPacketModule, host: string, port: number, packet: Buffer, timeoutMs: number): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new MachineroomError('ERR_TIMEOUT', `no DNS answer from ${host}:${port} within ${timeoutMs}ms`));
    }, timeoutMs);
    sock.once('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(dnsPacket.decode(msg));
    });
    sock.send(packet, port, host);
  });
}

function queryTcp(dnsPacket: DnsPacketModule, host: string, port: number, packet: Buffer, timeoutMs: number): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    sock.setTimeout(timeoutMs, () => {
      sock.destroy();
      reject(new MachineroomError('ERR_TIMEOUT', `no DNS answer over TCP from ${host}:${port}`));
    });
    sock.on('connect', () => sock.write(dnsPacket.streamEncode(dnsPacket.decode(packet))));
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        resolve(dnsPacket.streamDecode(buf));
      }
    });
    sock.on('error', (err) => reject(new MachineroomError('ERR_DAEMON_NOT_RUNNING', `DNS over TCP to ${host}:${port}: ${err.message}`)));
  });
}

function describe(a: Answer): string {
  const data = (a as { data?: unknown }).data;
  if (a.type === 'SRV') {
    const s = data as { priority: number; weight: number; port: number; target: string };
    return `SRV ${s.priority} ${s.weight} ${s.port} ${s.target}`;
  }
  if (a.type === 'SOA') {
    const s = data as { mname: string; rname: string; serial: number };
    return `SOA ${s.mname} ${s.rname} ${s.serial}`;
  }
  if (a.type === 'TXT') return `TXT ${(Array.isArray(data) ? data : [data]).map((d) => JSON.stringify(String(d))).join(' ')}`;
  return `${a.type} ${String(data)}`;
}

/** `resolve` */
export const resolveVerb: Verb = {
  name: 'resolve',
  summary: "Ask the bus's DNS what a name resolves to (A by default; SRV, AAAA, TXT, ANY), as an app would.",
  usage: 'resolve NAME [--type A|AAAA|SRV|TXT|ANY] [--tcp]',
  description: 'Examples: machineroom resolve alpha.service.consul · machineroom resolve _alpha._tcp.service.consul --type SRV · machineroom resolve alpha-1.node.consul',
  options: {
    type: { type: 'string', value: 'TYPE', description: 'question type (default A)' },
    tcp: { type: 'boolean', description: 'ask over TCP' },
    'any-version': { type: 'boolean', description: 'talk to a daemon of another version' },
  },
  async run(args) {
    const name = args.positionals[0];
    if (!name || args.positionals.length > 1) throw new MachineroomError('ERR_USAGE', 'resolve takes one NAME, e.g. machineroom resolve alpha.service.consul');
    const type = (str(args, 'type') ?? 'A').toUpperCase();
    if (!['A', 'AAAA', 'SRV', 'TXT', 'ANY', 'PTR', 'SOA'].includes(type)) throw new MachineroomError('ERR_USAGE', `--type: expected A, AAAA, SRV, TXT, ANY, PTR or SOA, got "${type}"`);
    const { record } = await requireDaemon(args);
    if (!record.dnsPort) throw new MachineroomError('ERR_DAEMON_NOT_RUNNING', 'this daemon serves no DNS');
    const dnsPacket = (await import('dns-packet')).default;
    const packet = dnsPacket.encode({ type: 'query', id: Math.floor(Math.random() * 65535), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as 'A', name }] });
    let answer = flag(args, 'tcp') ? await queryTcp(dnsPacket, '127.0.0.1', record.dnsPort, packet, 3000) : await queryUdp(dnsPacket, '127.0.0.1', record.dnsPort, packet, 3000);
    if (!flag(args, 'tcp') && (answer.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) answer = await queryTcp(dnsPacket, '127.0.0.1', record.dnsPort, packet, 3000);
    const color = useColor();
    const rcode = (answer as Packet & { rcode?: string }).rcode ?? 'NOERROR';
    process.stdout.write(`${paint(`${name} ${type}`, 'bold', color)} · ${rcode} · from 127.0.0.1:${record.dnsPort}\n`);
    for (const a of answer.answers ?? []) process.stdout.write(`  ${a.name}  ttl ${(a as { ttl?: number }).ttl ?? 0}  ${describe(a)}\n`);
    for (const a of answer.additionals ?? []) if (a.type !== 'OPT') process.stdout.write(paint(`  + ${a.name}  ${describe(a)}\n`, 'gray', color));
    if ((answer.answers ?? []).length === 0) process.stdout.write(paint('  (no answers)\n', 'gray', color));
    return rcode === 'NOERROR' ? EXIT_OK : EXIT_FAILURE;
  },
};
