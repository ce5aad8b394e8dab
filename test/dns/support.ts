// Test support for DNS: a catalog to query, dig run and parsed, raw UDP/TCP exchanges.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import assert from 'node:assert/strict';
import { createBusStore } from '../../src/bus/index.js';
import type { BusStore, CheckStatus } from '../../src/bus/index.js';

/** Where dig is expected (Debian's bind9-dnsutils). */
export const DIG = '/usr/bin/dig';

/** Whether dig tests run: they must in CI (a missing dig fails there), and are skipped elsewhere without it. */
export function digAvailable(): boolean {
  if (existsSync(DIG)) return true;
  if (process.env.CI === 'true') assert.fail(`dig is missing at ${DIG}: CI must install bind9-dnsutils`);
  return false;
}

/** One record as dig prints it. */
export interface DigRecord {
  name: string;
  ttl: number;
  type: string;
  data: string;
}

/** dig's output, parsed. */
export interface DigResult {
  status: string;
  flags: Set<string>;
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  raw: string;
}

/** Parses dig's default output (header, flags and the three record sections). */
export function parseDig(raw: string): DigResult {
  const status = /status: ([A-Z]+)/.exec(raw)?.[1] ?? '';
  const flagText = /;; flags: ([^;]*);/.exec(raw)?.[1] ?? '';
  const result: DigResult = { status, flags: new Set(flagText.trim().split(/\s+/).filter(Boolean)), answer: [], authority: [], additional: [], raw };
  let section: DigRecord[] | undefined;
  for (const line of raw.split('\n')) {
    if (line.startsWith(';; ANSWER SECTION:')) section = result.answer;
    else if (line.startsWith(';; AUTHORITY SECTION:')) section = result.authority;
    else if (line.startsWith(';; ADDITIONAL SECTION:')) section = result.additional;
    else if (line.trim() === '' || line.startsWith(';')) {
      if (line.trim() === '') section = undefined;
    } else if (section) {
      const [name, ttl, , type, ...data] = line.split(/\s+/);
      section.push({ name: name!, ttl: Number(ttl), type: type!, data: data.join(' ') });
    }
  }
  return result;
}

/** Runs `dig @127.0.0.1 -p PORT ARGS +tries=1 +time=2` without blocking the event loop (the server is in-process). */
export function dig(port: number, ...args: string[]): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile(DIG, ['@127.0.0.1', '-p', String(port), ...args, '+tries=1', '+time=2'], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`dig ${args.join(' ')} failed: ${err.message} ${stderr}`));
      else resolve(parseDig(stdout));
    });
  });
}

/** Sends one UDP datagram to 127.0.0.1:port and resolves to the first reply, or undefined after `timeoutMs`. */
export function udpExchange(port: number, msg: Buffer, timeoutMs = 2000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, timeoutMs);
    sock.on('message', (reply) => {
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    });
    sock.send(msg, port, '127.0.0.1');
  });
}

/** Sends datagrams in order from one UDP socket and resolves to the first reply that arrives. */
export function udpFirstReply(port: number, msgs: Buffer[], timeoutMs = 2000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, timeoutMs);
    sock.on('message', (reply) => {
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    });
    for (const m of msgs) sock.send(m, port, '127.0.0.1');
  });
}

/** Sends frames over one TCP connection and collects `expect` framed replies (or what came before the deadline). */
export function tcpExchange(port: number, frames: Buffer[], expect: number, timeoutMs = 3000): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const replies: Buffer[] = [];
    let got = Buffer.alloc(0);
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(replies);
    };
    const timer = setTimeout(done, timeoutMs);
    sock.on('error', done);
    sock.on('close', done);
    sock.on('connect', () => {
      for (const f of frames) {
        const framed = Buffer.alloc(f.length + 2);
        framed.writeUInt16BE(f.length, 0);
        f.copy(framed, 2);
        sock.write(framed);
      }
    });
    sock.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      while (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        const len = got.readUInt16BE(0);
        replies.push(got.subarray(2, 2 + len));
        got = got.subarray(2 + len);
      }
      if (replies.length >= expect) done();
    });
  });
}

/** Registers a node and one instance on it (its own address unless `own` is false). */
export function addInstance(
  store: BusStore,
  opts: { id: string; service: string; node: string; nodeAddress: string; address?: string; port?: number; tags?: string[]; meta?: Record<string, string>; weights?: { Passing: number; Warning: number } },
): void {
  if (!store.node(opts.node)) store.registerNode({ Node: opts.node, Address: opts.nodeAddress, ...(opts.meta ? { Meta: opts.meta } : {}) });
  store.registerService({
    ID: opts.id,
    Service: opts.service,
    Tags: opts.tags ?? [],
    Address: opts.address ?? '',
    Port: opts.port ?? 8080,
    Meta: {},
    Node: opts.node,
    ...(opts.weights ? { Weights: opts.weights } : {}),
  });
}

/** Registers a check on a service instance (or on a node when `serviceId` is ""). */
export function addCheck(store: BusStore, checkId: string, node: string, serviceId: string, service: string, status: CheckStatus): void {
  store.registerCheck({ Node: node, CheckID: checkId, Name: checkId, Status: status, Output: '', ServiceID: serviceId, ServiceName: serviceId ? service : '' });
}

/**
 * The shared fixture: web on three machines (web-1 own address, web-2 on its node's address, web-3 tagged
 * canary), db on one, a node with meta, a critical instance and a warning one.
 */
export function createFixtureStore(): BusStore {
  const store = createBusStore({ nodeName: 'agent', nodeAddress: '127.0.0.1', datacenter: 'dc1' });
  addInstance(store, { id: 'web-1', service: 'web', node: 'm1', nodeAddress: '127.0.1.1', address: '127.77.0.2', port: 8001, tags: ['v1', 'primary'], meta: { rack: 'r1', 'rfc1035-note': 'plain text' } });
  addInstance(store, { id: 'web-2', service: 'web', node: 'm2', nodeAddress: '127.0.1.2', port: 8002, tags: ['v1'], weights: { Passing: 10, Warning: 3 } });
  addInstance(store, { id: 'web-3', service: 'web', node: 'm3', nodeAddress: '127.0.1.3', address: '127.0.1.3', port: 8003, tags: ['canary'] });
  addInstance(store, { id: 'db-1', service: 'db', node: 'm4', nodeAddress: '127.0.1.4', address: '127.77.0.9', port: 5432 });
  addInstance(store, { id: 'api-1', service: 'api', node: 'm5', nodeAddress: '127.0.1.5', address: '127.77.0.5', port: 9000 });
  addInstance(store, { id: 'api-2', service: 'api', node: 'm6', nodeAddress: '127.0.1.6', address: '127.77.0.6', port: 9000, weights: { Passing: 10, Warning: 3 } });
  addCheck(store, 'api-1-http', 'm5', 'api-1', 'api', 'critical');
  addCheck(store, 'api-2-http', 'm6', 'api-2', 'api', 'warning');
  addInstance(store, { id: 'v6-1', service: 'six', node: 'm7', nodeAddress: '::1', port: 7000 });
  return store;
}

/** Polls `fn` until it returns a truthy value or the deadline passes (then returns the last value). */
export async function pollUntil<T>(fn: () => Promise<T> | T, timeoutMs = 5000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value || Date.now() >= deadline) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
