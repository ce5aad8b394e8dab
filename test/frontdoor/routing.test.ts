// Host forms, path routes with strip, tag filter, index and 404 pages, health-driven routing, 503 and 502 bodies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, send, waitFor } from './support.js';
import type { Harness } from './support.js';

let h: Harness;
let port: number;

before(async () => {
  h = createHarness();
  const a1 = await h.startBackend('alpha-1');
  const a2 = await h.startBackend('alpha-2');
  const b1 = await h.startBackend('beta-1');
  h.register('alpha', a1, { tags: ['v1'] });
  h.register('alpha', a2, { tags: ['v2'] });
  h.register('beta', b1);
  ({ port } = await h.startFrontDoor({ routes: [{ service: 'beta', hosts: ['app.example.test'], paths: ['/api'], strip: true }, { service: 'alpha', paths: ['/alpha-only'] }] }));
});
after(() => h.closeAll());

test('every host form reaches the service (case-insensitive, port ignored)', async () => {
  for (const host of ['alpha.localhost', 'ALPHA.Localhost:8080', 'alpha.demo.localhost', 'alpha.service.consul', 'alpha.service.consul.']) {
    const r = await send(port, host, '/x');
    assert.equal(r.status, 200, host);
    assert.match(JSON.parse(r.body).id, /^alpha-/, host);
  }
  const beta = await send(port, 'beta.service.consul', '/');
  assert.equal(JSON.parse(beta.body).id, 'beta-1');
});

test('tag host form sends only to instances with that tag', async () => {
  for (let i = 0; i < 10; i++) {
    assert.equal(JSON.parse((await send(port, 'v2.alpha.service.consul')).body).id, 'alpha-2');
    assert.equal(JSON.parse((await send(port, 'V1.alpha.service.consul')).body).id, 'alpha-1');
  }
});

test('a configured path route strips its prefix; host-less route applies to unknown hosts', async () => {
  const r = await send(port, 'app.example.test', '/api/users?x=1');
  assert.equal(JSON.parse(r.body).id, 'beta-1');
  assert.equal(JSON.parse(r.body).path, '/users?x=1');
  const bare = await send(port, 'app.example.test', '/api');
  assert.equal(JSON.parse(bare.body).path, '/');
  const other = await send(port, 'nowhere.test', '/alpha-only/z');
  assert.match(JSON.parse(other.body).id, /^alpha-/);
  assert.equal(JSON.parse(other.body).path, '/alpha-only/z');
});

test('forwarding headers and request id', async () => {
  const r = await send(port, 'beta.localhost', '/', { headers: { 'x-request-id': 'abc-123', connection: 'keep-alive, x-hop', 'x-hop': '1', 'x-forwarded-for': '10.0.0.9' } });
  const seen = JSON.parse(r.body).headers;
  assert.equal(seen['x-request-id'], 'abc-123');
  assert.equal(r.headers['x-request-id'], 'abc-123');
  assert.equal(seen['x-forwarded-for'], '10.0.0.9, 127.0.0.1');
  assert.equal(seen['x-forwarded-proto'], 'http');
  assert.equal(seen['x-forwarded-host'], 'beta.localhost');
  assert.match(seen.forwarded, /for=127\.0\.0\.1;host="beta\.localhost";proto=http/);
  assert.equal(seen['x-hop'], undefined);
  const fresh = await send(port, 'beta.localhost');
  assert.match(String(fresh.headers['x-request-id']), /^[0-9a-f-]{36}$/);
});

test('machineroom.localhost lists routes; unknown host is a 404 listing them', async () => {
  const index = await send(port, 'machineroom.localhost');
  assert.equal(index.status, 200);
  assert.match(index.body, /alpha\.demo\.localhost/);
  assert.match(index.body, /v2\.alpha\.service\.consul/);
  assert.match(index.body, /app\.example\.test/);
  const missing = await send(port, 'gamma.localhost');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /gamma\.localhost/);
  assert.match(missing.body, /beta\.localhost/);
});

test('only passing instances get traffic; a critical check stops it; none passing is a 503 (HTML and JSON)', async () => {
  h.store.updateCheck('service:alpha-1', 'critical', 'connection refused on /health');
  await waitFor(async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 6; i++) ids.add(JSON.parse((await send(port, 'alpha.localhost')).body).id);
    return ids.size === 1 && ids.has('alpha-2');
  }, 5000, 'traffic only to alpha-2');
  h.store.updateCheck('service:alpha-2', 'critical', 'timeout after 2s');
  const html = await send(port, 'alpha.localhost', '/', { headers: { accept: 'text/html' } });
  assert.equal(html.status, 503);
  assert.match(html.headers['content-type'] ?? '', /text\/html/);
  assert.match(html.body, /alpha/);
  assert.match(html.body, /0 of 2 passing/);
  assert.match(html.body, /timeout after 2s/);
  const json = await send(port, 'alpha.localhost', '/', { headers: { accept: 'application/json' } });
  assert.equal(json.status, 503);
  const body = JSON.parse(json.body);
  assert.equal(body.service, 'alpha');
  assert.equal(body.instances, 2);
  assert.equal(body.passing, 0);
  assert.equal(body.lastCheck.output, 'timeout after 2s');
  h.store.updateCheck('service:alpha-1', 'passing', 'ok');
  h.store.updateCheck('service:alpha-2', 'passing', 'ok');
  assert.equal((await send(port, 'alpha.localhost')).status, 200);
});

test('an upstream error is a 502 naming the instance', async () => {
  const dead = await h.startBackend('gone-1');
  h.register('gone', dead);
  await dead.close();
  const r = await send(port, 'gone.localhost', '/', { headers: { accept: 'application/json' } });
  assert.equal(r.status, 502);
  const body = JSON.parse(r.body);
  assert.equal(body.instance, 'gone-1');
  assert.equal(body.address, `127.0.0.1:${dead.port}`);
  const html = await send(port, 'gone.localhost');
  assert.match(html.body, new RegExp(`gone-1 at 127\\.0\\.0\\.1:${dead.port}`));
});
