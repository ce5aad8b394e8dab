// Real servers for front door tests: backends on 127.0.0.1:0, a bus store, the front door on a real node:http server.
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createBusStore } from '../../src/bus/index.js';
import type { BusStore } from '../../src/bus/index.js';
import { createFrontDoor } from '../../src/frontdoor/index.js';
import type { FrontDoor, FrontDoorOptions } from '../../src/frontdoor/index.js';

/** A running backend; `hits` counts requests it answered. */
export interface Backend {
  id: string;
  port: number;
  server: Server;
  hits: number;
  close(): Promise<void>;
}

/** Tracks every server so after() can stop them all. */
export interface Harness {
  store: BusStore;
  backends: Backend[];
  startBackend(id: string, handler?: (req: IncomingMessage, res: ServerResponse, b: Backend) => void): Promise<Backend>;
  register(service: string, b: Backend, opts?: { tags?: string[]; weight?: number; status?: 'passing' | 'warning' | 'critical' }): void;
  startFrontDoor(opts?: Partial<FrontDoorOptions>): Promise<{ fd: FrontDoor; port: number }>;
  closeAll(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function stopServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
}

function track(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

/** Default backend: answers JSON naming itself, the path and the headers it saw. */
export function echoHandler(req: IncomingMessage, res: ServerResponse, b: Backend): void {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-backend': b.id });
    res.end(JSON.stringify({ id: b.id, path: req.url, headers: req.headers }));
  });
}

/** Creates a harness with a real bus store. */
export function createHarness(): Harness {
  const store = createBusStore({ nodeName: 'agent', nodeAddress: '127.0.0.1' });
  store.registerNode({ Node: 'm1', Address: '127.0.0.1' });
  const closers: Array<() => Promise<void>> = [];
  const backends: Backend[] = [];
  return {
    store,
    backends,
    async startBackend(id, handler = echoHandler) {
      const server = createServer();
      const sockets = track(server);
      const b: Backend = { id, port: 0, server, hits: 0, close: () => stopServer(server, sockets) };
      server.on('request', (req, res) => {
        b.hits++;
        handler(req, res, b);
      });
      server.on('upgrade', (req, socket, head) => server.emit('test-upgrade', req, socket, head));
      b.port = await listen(server);
      backends.push(b);
      closers.push(b.close);
      return b;
    },
    register(service, b, opts = {}) {
      store.registerService({ ID: b.id, Service: service, Tags: opts.tags ?? [], Address: '127.0.0.1', Port: b.port, Meta: {}, Node: 'm1', Weights: { Passing: opts.weight ?? 1, Warning: 1 } });
      store.registerCheck({ Node: 'm1', CheckID: `service:${b.id}`, Name: `${service} health`, Status: opts.status ?? 'passing', Output: `HTTP GET ${b.id}: ${opts.status ?? 'passing'}`, ServiceID: b.id, ServiceName: service });
    },
    async startFrontDoor(opts = {}) {
      const fd = createFrontDoor({ store, project: 'demo', ...opts });
      const server = createServer((req, res) => fd.handleRequest(req, res));
      server.on('upgrade', (req, socket, head) => fd.handleUpgrade(req, socket, head));
      const sockets = track(server);
      const port = await listen(server);
      closers.push(async () => {
        fd.close();
        await stopServer(server, sockets);
      });
      return { fd, port };
    },
    async closeAll() {
      for (const c of closers.reverse()) await c();
    },
  };
}

/** A finished response, body as text. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends one request through the front door with a given Host header. */
export function send(port: number, host: string, path = '/', opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host, ...opts.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Polls until `check` returns true or the deadline passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
