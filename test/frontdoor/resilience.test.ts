// Failures and lifecycle: a killed backend's unsent requests retried elsewhere, passive ejection, drain, timeouts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, send, waitFor } from './support.js';
import type { Harness } from './support.js';

const harnesses: Harness[] = [];
after(async () => {
  for (const h of harnesses) await h.closeAll();
});

test("a killed backend's requests are retried on another instance, then it is ejected", async () => {
  const h = createHarness();
  harnesses.push(h);
  const doomed = await h.startBackend('k-1');
  const alive = await h.startBackend('k-2');
  h.register('k', doomed);
  h.register('k', alive);
  const { port, fd } = await h.startFrontDoor({ balancer: 'round-robin', maxFails: 2, failTimeoutMs: 60_000 });
  // Warm both pools so the killed one has pooled keep-alive sockets too.
  for (let i = 0; i < 4; i++) assert.equal((await send(port, 'k.localhost')).status, 200);
  await doomed.close();
  for (let i = 0; i < 10; i++) {
    const get = await send(port, 'k.localhost', `/get-${i}`);
    assert.equal(get.status, 200, get.body);
    assert.equal(get.headers['x-backend'], 'k-2');
    const post = await send(port, 'k.localhost', `/post-${i}`, { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
    assert.equal(post.status, 200, post.body);
    assert.equal(post.headers['x-backend'], 'k-2');
  }
  const dead = fd.stats().find((s) => s.id === 'k-1')!;
  assert.ok(dead.errors >= 2, `errors ${dead.errors}`);
  assert.equal(dead.ejected, true);
  assert.equal(dead.inFlight, 0);
  assert.ok(alive.hits >= 22);
});

test('drain: the in-flight request finishes, new requests go elsewhere, drain resolves after it', async () => {
  const h = createHarness();
  harnesses.push(h);
  let release: (() => void) | undefined;
  const draining = await h.startBackend('d-1', (req, res) => {
    req.resume();
    if (req.url === '/slow') release = () => res.end('slow done');
    else res.end('quick');
  });
  const other = await h.startBackend('d-2');
  h.register('d', draining);
  h.register('d', other);
  const { port, fd } = await h.startFrontDoor({ balancer: 'round-robin', sticky: { d: 'pin' } });
  const slow = send(port, 'd.localhost', '/slow', { headers: { cookie: 'pin=d-1' } });
  await waitFor(() => release !== undefined, 5000, 'slow request to reach d-1');
  let drained = false;
  const drain = fd.drain('d-1').then(() => (drained = true));
  assert.equal(fd.stats().find((s) => s.id === 'd-1')!.draining, true);
  for (let i = 0; i < 6; i++) {
    const r = await send(port, 'd.localhost', '/', { headers: { cookie: 'pin=d-1' } });
    assert.equal(r.headers['x-backend'], 'd-2');
  }
  assert.equal(drained, false);
  release!();
  const done = await slow;
  assert.equal(done.status, 200);
  assert.equal(done.body, 'slow done');
  await drain;
  assert.equal(fd.stats().find((s) => s.id === 'd-1')!.inFlight, 0);
});

test('drain resolves at its timeout when a request never finishes', async () => {
  const h = createHarness();
  harnesses.push(h);
  const stuck = await h.startBackend('t-1', (req) => req.resume());
  h.register('t', stuck);
  const { port, fd } = await h.startFrontDoor({ drainTimeoutMs: 100, timeouts: { idleMs: 0 } });
  const pending = send(port, 't.localhost').catch(() => undefined);
  await waitFor(() => stuck.hits === 1, 5000, 'request to reach t-1');
  await fd.drain('t-1');
  assert.equal(fd.stats()[0]!.inFlight, 1);
  // Nothing else can take it: a 503.
  assert.equal((await send(port, 't.localhost')).status, 503);
  fd.close();
  await stuck.close();
  await pending;
});

test('an idle upstream times out as a 504 naming the instance', async () => {
  const h = createHarness();
  harnesses.push(h);
  const silent = await h.startBackend('i-1', (req) => req.resume());
  h.register('i', silent);
  const { port } = await h.startFrontDoor({ timeouts: { idleMs: 150 } });
  const r = await send(port, 'i.localhost', '/', { headers: { accept: 'application/json' } });
  assert.equal(r.status, 504);
  assert.equal(JSON.parse(r.body).instance, 'i-1');
});

test('deregistering an instance removes it from routing at once', async () => {
  const h = createHarness();
  harnesses.push(h);
  const a = await h.startBackend('r-1');
  const b = await h.startBackend('r-2');
  h.register('r', a);
  h.register('r', b);
  const { port, fd } = await h.startFrontDoor();
  h.store.deregisterService('r-1');
  for (let i = 0; i < 6; i++) assert.equal((await send(port, 'r.localhost')).headers['x-backend'], 'r-2');
  assert.deepEqual(fd.stats().map((s) => s.id), ['r-2']);
  const route = fd.routes().find((x) => x.service === 'r' && !x.tag)!;
  assert.equal(route.instances, 1);
});

test('a total timeout before the response headers is a 504; the backend connection is closed', async () => {
  const h = createHarness();
  harnesses.push(h);
  let closed = false;
  const slow = await h.startBackend('s-1', (req) => {
    req.resume();
    req.socket.once('close', () => (closed = true));
  });
  h.register('slowsvc', slow);
  const { port, fd } = await h.startFrontDoor({ timeouts: { totalMs: 150, idleMs: 0 } });
  const r = await send(port, 'slowsvc.localhost');
  assert.equal(r.status, 504);
  assert.match(r.body, /s-1 at 127\.0\.0\.1/);
  await waitFor(() => closed, 5000, 'backend socket to close');
  assert.equal(fd.stats()[0]!.inFlight, 0);
});

test('drain after deregistration (the supervisor order) still waits for the requests in flight', async () => {
  const h = createHarness();
  harnesses.push(h);
  let release: (() => void) | undefined;
  const leaving = await h.startBackend('r-1', (req, res) => {
    req.resume();
    release = () => res.end('finished after deregistration');
  });
  h.register('r', leaving);
  const { port, fd } = await h.startFrontDoor();
  const inFlight = send(port, 'r.localhost', '/slow');
  await waitFor(() => release !== undefined, 5000, 'the request to reach r-1');
  // Deregistered first, then drained: the instance is gone from the routing state, its request is not.
  h.store.deregisterService('r-1');
  let drained = false;
  const drain = fd.drain('r-1').then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false, 'drain waits for the request still in flight');
  release!();
  const done = await inFlight;
  assert.equal(done.status, 200);
  assert.equal(done.body, 'finished after deregistration');
  await drain;
  assert.equal(drained, true);
});
