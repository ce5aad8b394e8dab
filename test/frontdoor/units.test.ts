// Pure parts without sockets: host/path matching, one shared contract every balancer passes, option validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer, matchRoute, normalizeHost, resolveFrontDoorOptions } from '../../src/frontdoor/index.js';
import type { BalancerKind } from '../../src/frontdoor/index.js';
import { createBusStore } from '../../src/bus/index.js';
import { createUpstream } from '../../src/frontdoor/upstream.js';

const services = new Map([['web', 'web'], ['api', 'API']]);
const ctx = { project: 'demo', domain: 'consul', resolveService: (label: string) => services.get(label), routes: [
  { service: 'API', hosts: ['Example.TEST'], paths: ['/v1', '/v1/admin'], strip: true },
  { service: 'web', hosts: ['example.test'], paths: ['/v1/admin/ui'] },
  { service: 'web', paths: ['/static'] },
] };

test('normalizeHost drops case, port and trailing dot', () => {
  assert.equal(normalizeHost('Web.LocalHost:8080'), 'web.localhost');
  assert.equal(normalizeHost('web.service.consul.'), 'web.service.consul');
  assert.equal(normalizeHost('[::1]:80'), '[::1]');
});

test('matchRoute: generated host forms, tags, longest prefix, strip', () => {
  assert.deepEqual(matchRoute('web.localhost', '/a', ctx), { kind: 'service', service: 'web', path: '/a' });
  assert.deepEqual(matchRoute('web.demo.localhost', '/a', ctx), { kind: 'service', service: 'web', path: '/a' });
  assert.deepEqual(matchRoute('web.other.localhost', '/a', ctx), { kind: 'none', host: 'web.other.localhost' });
  assert.deepEqual(matchRoute('canary.web.service.consul', '/', ctx), { kind: 'service', service: 'web', tag: 'canary', path: '/' });
  assert.deepEqual(matchRoute('example.test', '/v1/admin/x', ctx), { kind: 'service', service: 'API', path: '/x' });
  assert.deepEqual(matchRoute('example.test', '/v1/admin/ui/x', ctx), { kind: 'service', service: 'web', path: '/v1/admin/ui/x' });
  assert.deepEqual(matchRoute('example.test', '/v1x', ctx), { kind: 'none', host: 'example.test' });
  assert.deepEqual(matchRoute('anything.test', '/static/a.css', ctx), { kind: 'service', service: 'web', path: '/static/a.css' });
  assert.deepEqual(matchRoute('API.service.consul', '/', ctx), { kind: 'service', service: 'API', path: '/' });
  assert.deepEqual(matchRoute('machineroom.localhost', '/', ctx), { kind: 'index' });
  // The front door's own names list the routes too, unless a host-less path route claims the path.
  for (const host of ['localhost', 'LOCALHOST:8080', '127.0.0.1:8080', '[::1]:8080']) assert.deepEqual(matchRoute(host, '/', ctx), { kind: 'index' }, host);
  assert.deepEqual(matchRoute('localhost', '/static/a.css', ctx), { kind: 'service', service: 'web', path: '/static/a.css' });
  assert.deepEqual(matchRoute('nope.localhost', '/', ctx), { kind: 'none', host: 'nope.localhost' });
});

function upstreams(n: number) {
  return Array.from({ length: n }, (_, i) =>
    createUpstream({ id: `u-${i}`, service: 's', tags: [], address: '127.0.0.1', port: 1, weight: 1 }),
  );
}

for (const kind of ['round-robin', 'least-conn', 'p2c'] as BalancerKind[]) {
  test(`balancer contract: ${kind}`, () => {
    const b = createBalancer(kind);
    const one = upstreams(1);
    assert.equal(b.pick('s', one), one[0]);
    const four = upstreams(4);
    const seen = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const u = b.pick('s', four);
      assert.ok(four.includes(u));
      seen.set(u.id, (seen.get(u.id) ?? 0) + 1);
    }
    assert.equal(seen.size, 4, `${kind} used ${[...seen.keys()].join(',')}`);
    // A loaded instance is avoided by the load-aware balancers.
    four[0]!.inFlight = 100;
    if (kind !== 'round-robin') for (let i = 0; i < 50; i++) assert.notEqual(b.pick('s', four).id, 'u-0');
    for (const u of [...one, ...four]) u.pool.destroy();
  });
}

test('resolveFrontDoorOptions fills defaults and rejects bad values with a typed error', () => {
  const store = createBusStore({ nodeName: 'agent' });
  const r = resolveFrontDoorOptions({ store, project: 'Demo' });
  assert.equal(r.balancer, 'least-conn');
  assert.equal(r.domain, 'consul');
  assert.equal(r.project, 'demo');
  assert.throws(() => resolveFrontDoorOptions({ store, project: 'd', balancer: 'random' as BalancerKind }), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => resolveFrontDoorOptions({ store, project: 'd', timeouts: { idleMs: -1 } }), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => resolveFrontDoorOptions({ store, project: 'd', routes: [{ service: 'x', paths: ['api'] }] }), { code: 'ERR_CONFIG_INVALID' });
});
