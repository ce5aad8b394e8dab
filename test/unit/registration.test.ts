// Registration: one service per instance by default; registrator's SERVICE_* conventions for names, tags, meta and checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registrationsOf } from '../../src/supervisor/registration.js';
import type { ResolvedService } from '../../src/config/index.js';
import type { Machine } from '../../src/machines/index.js';

function spec(over: Partial<ResolvedService>): ResolvedService {
  return {
    name: 'alpha',
    command: ['node', 'server.js'],
    cwd: '/tmp',
    env: {},
    envFiles: [],
    protocol: 'http',
    replicas: 1,
    ports: [{ name: 'default', port: 80 }],
    dependsOn: [],
    restart: { policy: 'on-failure', backoff: 1000, maxBackoff: 30000 },
    stopSignal: 'SIGTERM',
    stopGrace: 10000,
    tags: ['development'],
    routes: [],
    meta: { owner: 'me' },
    profiles: [],
    ...over,
  };
}
const machine: Machine = { name: 'alpha-1', mode: 'loopback', address: '127.77.0.2', ports: { default: 80, admin: 9000 }, leaseKeys: [] };
const id = { name: 'alpha.1', index: 1, version: 'abcd1234', project: 'demo' };

test('without conventions: one registration on the primary port, with the instance number and version in meta', () => {
  const regs = registrationsOf(spec({ ports: [{ name: 'default', port: 80 }, { name: 'admin', port: 9000 }] }), machine, id);
  assert.equal(regs.length, 1);
  assert.deepEqual(regs[0]!.service, {
    ID: 'alpha.1',
    Service: 'alpha',
    Tags: ['development'],
    Address: '127.77.0.2',
    Port: 80,
    Meta: { owner: 'me', 'machineroom-version': 'abcd1234', 'machineroom-instance': '1', 'machineroom-project': 'demo' },
    Node: 'alpha-1',
  });
  assert.deepEqual(regs[0]!.checks, []);
});

test("registrator's SERVICE_NAME, SERVICE_TAGS, attributes and SERVICE_<port>_NAME, as the 2015 fig file used them", () => {
  const regs = registrationsOf(spec({ env: { SERVICE_80_NAME: 'http', SERVICE_NAME: 'alpha', SERVICE_TAGS: 'development,canary', SERVICE_REGION: 'us2' } }), machine, id);
  assert.equal(regs.length, 1);
  assert.equal(regs[0]!.service.Service, 'http', 'the port-specific name wins');
  assert.deepEqual(regs[0]!.service.Tags, ['development', 'canary']);
  assert.equal(regs[0]!.service.Meta.region, 'us2', 'other SERVICE_* become meta');
});

test('several ports with conventions: one registration per port, named <name>-<port> unless a port-specific name is set', () => {
  const regs = registrationsOf(spec({ ports: [{ name: 'default', port: 80 }, { name: 'admin', port: 9000 }], env: { SERVICE_NAME: 'web', SERVICE_9000_IGNORE: '' } }), machine, id);
  assert.equal(regs.length, 1, 'SERVICE_9000_IGNORE drops that port');
  assert.equal(regs[0]!.service.Service, 'web-80');
  const both = registrationsOf(spec({ ports: [{ name: 'default', port: 80 }, { name: 'admin', port: 9000 }], env: { SERVICE_NAME: 'web', SERVICE_9000_NAME: 'web-admin' } }), machine, id);
  assert.deepEqual(both.map((r) => [r.service.ID, r.service.Service, r.service.Port]), [['alpha.1', 'web-80', 80], ['alpha.1:9000', 'web-admin', 9000]]);
});

test('SERVICE_CHECK_* become checks: http with interval and timeout, ttl, tcp, initial status, deregister-after', () => {
  const http = registrationsOf(spec({ env: { SERVICE_CHECK_HTTP: '/health', SERVICE_CHECK_INTERVAL: '15s', SERVICE_CHECK_TIMEOUT: '1s', SERVICE_CHECK_INITIAL_STATUS: 'passing' } }), machine, id)[0]!.checks[0]!;
  assert.equal(http.kind, 'runner');
  if (http.kind === 'runner') {
    assert.equal(http.health.kind, 'http');
    assert.equal(http.health.path, '/health');
    assert.equal(http.health.interval, 15000);
    assert.equal(http.health.timeout, 1000);
    assert.equal(http.port, 80);
  }
  assert.equal(http.initialStatus, 'passing');
  const ttl = registrationsOf(spec({ env: { SERVICE_CHECK_TTL: '30s', SERVICE_CHECK_DEREGISTER_AFTER: '10m' } }), machine, id)[0]!.checks[0]!;
  assert.deepEqual(ttl, { kind: 'ttl', checkId: 'service:alpha.1:registrator', ttl: 30000, deregisterAfter: 600000 });
  const tcp = registrationsOf(spec({ env: { SERVICE_CHECK_TCP: 'true' } }), machine, id)[0]!.checks[0]!;
  assert.equal(tcp.kind === 'runner' && tcp.health.kind, 'tcp');
  const meta = registrationsOf(spec({ env: { SERVICE_CHECK_TCP: 'true' } }), machine, id)[0]!.service.Meta;
  assert.equal(meta.check_tcp, undefined, 'check settings are not meta');
});

test('escaped commas in SERVICE_TAGS', () => {
  const regs = registrationsOf(spec({ tags: [], env: { SERVICE_TAGS: 'a\\,b,c' } }), machine, id);
  assert.deepEqual(regs[0]!.service.Tags, ['a,b', 'c']);
});
