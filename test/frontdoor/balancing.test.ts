// Balancers through real sockets: round robin evenness, least-conn avoiding a slow backend, sticky cookie pinning.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, send } from './support.js';
import type { Harness } from './support.js';

const harnesses: Harness[] = [];
after(async () => {
  for (const h of harnesses) await h.closeAll();
});

test('round robin spreads 4,000 requests over 4 instances within ±5%', async () => {
  const h = createHarness();
  harnesses.push(h);
  for (let i = 1; i <= 4; i++) h.register('web', await h.startBackend(`web-${i}`));
  const { port, fd } = await h.startFrontDoor({ balancer: 'round-robin' });
  const counts = new Map<string, number>();
  const total = 4000;
  const parallel = 16;
  let sent = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (sent < total) {
        sent++;
        const r = await send(port, 'web.localhost');
        const id = String(r.headers['x-backend']);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }),
  );
  assert.equal([...counts.values()].reduce((a, b) => a + b, 0), total);
  for (const [id, n] of counts) assert.ok(Math.abs(n - total / 4) <= (total / 4) * 0.05, `${id} got ${n}`);
  const stats = fd.stats();
  assert.equal(stats.length, 4);
  assert.ok(stats.every((s) => s.requests >= 950 && s.inFlight === 0 && s.p99 >= s.p50));
});

test('smooth weighted round robin follows Weights.Passing', async () => {
  const h = createHarness();
  harnesses.push(h);
  h.register('w', await h.startBackend('w-heavy'), { weight: 3 });
  h.register('w', await h.startBackend('w-light'), { weight: 1 });
  const { port } = await h.startFrontDoor({ balancer: 'round-robin' });
  const seen: string[] = [];
  for (let i = 0; i < 40; i++) seen.push(String((await send(port, 'w.localhost')).headers['x-backend']));
  assert.equal(seen.filter((s) => s === 'w-heavy').length, 30);
});

test('least-conn favours the idle backend when one is slow', async () => {
  const h = createHarness();
  harnesses.push(h);
  const release: Array<() => void> = [];
  const slow = await h.startBackend('slow-1', (req, res) => {
    req.resume();
    release.push(() => res.end('slow'));
  });
  const fast = await h.startBackend('fast-1');
  h.register('lc', slow);
  h.register('lc', fast);
  const { port } = await h.startFrontDoor({ balancer: 'least-conn' });
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < 20; i++) {
    pending.push(send(port, 'lc.localhost'));
    await new Promise((r) => setTimeout(r, 5));
  }
  // Requests to fast-1 finish at once; the slow one holds at most one or two of the twenty.
  assert.ok(slow.hits <= 2, `slow got ${slow.hits}`);
  assert.ok(fast.hits >= 18, `fast got ${fast.hits}`);
  for (const r of release) r();
  const poll = setInterval(() => release.splice(0).forEach((r) => r()), 10);
  await Promise.all(pending);
  clearInterval(poll);
});

test('p2c sends traffic to every instance', async () => {
  const h = createHarness();
  harnesses.push(h);
  for (let i = 1; i <= 3; i++) h.register('p', await h.startBackend(`p-${i}`));
  const { port } = await h.startFrontDoor({ balancer: 'p2c' });
  const ids = new Set<string>();
  for (let i = 0; i < 60; i++) ids.add(String((await send(port, 'p.localhost')).headers['x-backend']));
  assert.equal(ids.size, 3);
});

test('a sticky cookie pins the client while its instance is healthy', async () => {
  const h = createHarness();
  harnesses.push(h);
  for (let i = 1; i <= 3; i++) h.register('s', await h.startBackend(`s-${i}`));
  const { port } = await h.startFrontDoor({ balancer: 'round-robin', sticky: { s: 'mr_s' } });
  const first = await send(port, 's.localhost');
  const setCookie = (first.headers['set-cookie'] ?? [])[0] ?? '';
  assert.match(setCookie, /^mr_s=s-\d;/);
  const cookie = setCookie.split(';')[0]!;
  const pinned = String(first.headers['x-backend']);
  for (let i = 0; i < 12; i++) {
    const r = await send(port, 's.localhost', '/', { headers: { cookie } });
    assert.equal(r.headers['x-backend'], pinned);
    assert.equal(r.headers['set-cookie'], undefined);
  }
  h.store.updateCheck(`service:${pinned}`, 'critical', 'down');
  const moved = await send(port, 's.localhost', '/', { headers: { cookie } });
  assert.notEqual(moved.headers['x-backend'], pinned);
  assert.match(String(moved.headers['set-cookie']), /^mr_s=s-\d;/);
});
