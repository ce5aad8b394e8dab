// machineroom.localhost: with a control target in the routing state (the daemon's control listener), every path goes
// there — streamed answers included, never access-logged, no upgrades; without one it is the route index.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createFrontDoorCore } from '../../src/frontdoor/core.js';
import type { FrontDoorCore } from '../../src/frontdoor/core.js';
import type { RoutingState } from '../../src/frontdoor/routing-state.js';
import type { AccessEntry } from '../../src/frontdoor/index.js';
import { send, waitFor } from './support.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();
let core: FrontDoorCore;
let port = 0;
let controlPort = 0;
const access: AccessEntry[] = [];
const seen: Array<{ path: string; host: string }> = [];

function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function state(version: number, control?: { address: string; port: number }): RoutingState {
  return { version, services: [], draining: [], routes: [], configured: [], accessLog: { global: true, services: {} }, ...(control ? { control } : {}) };
}

before(async () => {
  // The "control listener": echoes what it saw, and streams three SSE events on /stream.
  controlPort = await listen(
    createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push({ path: req.url ?? '', host: req.headers.host ?? '' });
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const t = setInterval(() => {
          res.write(`event: tick\ndata: ${++n}\n\n`);
          if (n === 3) {
            clearInterval(t);
            res.end();
          }
        }, 20);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url }));
    }),
  );
  core = createFrontDoorCore(
    { project: 'demo', domain: 'consul', balancer: 'least-conn', sticky: {}, timeouts: { connectMs: 2000, idleMs: 10_000, totalMs: 0 }, maxFails: 3, failTimeoutMs: 10_000 },
    (e) => access.push(e),
  );
  const front = createServer((req, res) => core.handleRequest(req, res));
  front.on('upgrade', (req, socket, head) => core.handleUpgrade(req, socket, head));
  port = await listen(front);
});

after(async () => {
  core.close();
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

test('without a control target machineroom.localhost is the route index', async () => {
  core.apply(state(1));
  const r = await send(port, 'machineroom.localhost', '/');
  assert.equal(r.status, 200);
  assert.match(r.body, /machineroom front door/);
  assert.equal(seen.length, 0);
});

test('with one, every path on machineroom.localhost reaches the control listener, Host kept, not access-logged', async () => {
  core.apply(state(2, { address: '127.0.0.1', port: controlPort }));
  for (const path of ['/', '/ui/', '/v1/machineroom/session?x=1']) {
    const r = await send(port, `machineroom.localhost:${port}`, path);
    assert.equal(r.status, 200, path);
    assert.deepEqual(JSON.parse(r.body), { path }, path);
  }
  assert.deepEqual(seen.map((s) => s.host), [`machineroom.localhost:${port}`, `machineroom.localhost:${port}`, `machineroom.localhost:${port}`]);
  assert.equal(access.length, 0, 'dashboard traffic stays out of the access log');
  // Other names are not affected: the index is on localhost.
  assert.match((await send(port, 'localhost', '/')).body, /machineroom front door/);
});

test('a Server-Sent Events answer streams through', async () => {
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/stream', headers: { host: 'machineroom.localhost' } }, (res) => {
      assert.match(String(res.headers['content-type']), /text\/event-stream/);
      res.setEncoding('utf8');
      res.on('data', (c: string) => got.push(c));
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(got.join(''), 'event: tick\ndata: 1\n\nevent: tick\ndata: 2\n\nevent: tick\ndata: 3\n\n');
});

test('upgrades to machineroom.localhost are refused', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/ws', headers: { host: 'machineroom.localhost', connection: 'Upgrade', upgrade: 'websocket' } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', () => reject(new Error('upgraded')));
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 404);
});

test('a moved control target is followed', async () => {
  const other = await listen(createServer((req, res) => res.end(`moved ${req.url}`)));
  core.apply(state(3, { address: '127.0.0.1', port: other }));
  await waitFor(async () => (await send(port, 'machineroom.localhost', '/x')).body === 'moved /x', 5000, 'the new target');
});
