// Unit: RoomStatus as the daemon reports it — each instance's bus checks (its registrations' and its machine's node
// checks, with when they last changed), each service's kind and front-door URLs, and a database resource's URLs
// with no password in them. A real bus store; the supervisor, addresses and resources are stand-ins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBusStore } from '../../src/bus/index.js';
import type { ResolvedConfig, ResolvedService } from '../../src/config/index.js';
import type { DaemonInfo, InstanceStatus } from '../../src/client/index.js';
import type { Supervisor } from '../../src/supervisor/index.js';
import { createRoomStatus, frontDoorUrls } from '../../src/daemon/room-status.js';

const INFO: DaemonInfo = { version: '0', pid: 1, project: 'demo', projectId: 'demo-1', projectDir: '/tmp/demo', apiUrl: 'http://127.0.0.1:8500', startedAt: '', machineMode: 'loopback', secrets: [] };

function service(name: string, extra: Partial<ResolvedService> = {}): ResolvedService {
  return {
    name,
    command: ['true'],
    cwd: '/tmp',
    env: {},
    envFiles: [],
    replicas: 1,
    ports: [{ name: 'http', port: 8080 }] as ResolvedService['ports'],
    dependsOn: [],
    restart: { policy: 'always', backoff: 100, maxBackoff: 1000 } as ResolvedService['restart'],
    stopSignal: 'SIGTERM',
    stopGrace: 1000,
    tags: [],
    protocol: 'http',
    routes: [],
    meta: {},
    profiles: [],
    ...extra,
  };
}

function instance(name: string, machine: string): InstanceStatus {
  return { name, instanceId: `demo-1:${name}`, service: name.split('.')[0]!, index: 1, state: 'running', health: 'passing', version: 'v1', restarts: 0, ports: { http: 8080 }, machine, address: '127.77.0.2' };
}

test('frontDoorUrls: the service host, then configured routes; none for tcp services and databases', () => {
  assert.deepEqual(frontDoorUrls(service('web'), 8080), ['http://web.localhost:8080/']);
  assert.deepEqual(
    frontDoorUrls(service('web', { routes: [{ hosts: ['Shop.localhost'], paths: ['/api', '/v2'], strip: true }, { hosts: [], paths: ['/static'], strip: false }] }), 9000),
    ['http://web.localhost:9000/', 'http://shop.localhost:9000/api', 'http://shop.localhost:9000/v2', 'http://localhost:9000/static'],
  );
  assert.deepEqual(frontDoorUrls(service('cache', { protocol: 'tcp' }), 8080), []);
  assert.deepEqual(frontDoorUrls(service('worker', { ports: [] }), 8080), []);
  assert.deepEqual(frontDoorUrls(service('database', { postgres: { engine: 'embedded', databases: [], settings: {} } }), 8080), []);
});

test('status: checks per instance, kinds, URLs, and database URLs without passwords', async () => {
  const store = createBusStore({ nodeName: 'agent' });
  store.registerNode({ Node: 'web-1', Address: '127.77.0.2' });
  store.registerNode({ Node: 'database-1', Address: '127.77.0.3' });
  store.registerService({ ID: 'web.1', Service: 'web', Tags: [], Address: '127.77.0.2', Port: 8080, Meta: {}, Node: 'web-1' });
  store.registerService({ ID: 'web.1:9090', Service: 'web-9090', Tags: [], Address: '127.77.0.2', Port: 9090, Meta: {}, Node: 'web-1' });
  store.registerCheck({ Node: 'web-1', CheckID: 'service:web.1', Name: "Service 'web' check", Status: 'critical', Output: 'waiting', ServiceID: 'web.1', ServiceName: 'web', Type: 'http' });
  store.registerCheck({ Node: 'web-1', CheckID: 'service:web.1:9090:registrator', Name: 'registrator', Status: 'passing', Output: '', ServiceID: 'web.1:9090', ServiceName: 'web-9090' });
  store.registerCheck({ Node: 'web-1', CheckID: 'maintenance', Name: 'node maintenance', Status: 'warning', Output: 'planned', ServiceID: '', ServiceName: '' });
  store.registerCheck({ Node: 'database-1', CheckID: 'other-node', Name: 'not web', Status: 'critical', Output: '', ServiceID: '', ServiceName: '' });

  const view = createRoomStatus({
    info: INFO,
    supervisor: {
      status: () => [instance('web.1', 'web-1'), instance('database.1', 'database-1')],
      services: () => [
        { name: 'web', desired: 1, build: 'none', stopped: false },
        { name: 'database', desired: 1, build: 'none', stopped: false },
        { name: 'gone', desired: 0, build: 'none', stopped: false },
      ],
    } as unknown as Supervisor,
    store,
    addresses: { get: (name) => (name === 'database' ? { service: name, host: '127.77.0.9', port: 5432, protocol: 'tcp', url: 'tcp://127.77.0.9:5432' } : undefined) },
    databases: {
      run: async (action) => ({
        name: action.name,
        engine: 'embedded',
        databases: [
          { name: 'app', user: 'app_owner', url: 'postgres://app_owner:hunter2@127.77.0.9:5432/app' },
          { name: 'reports', user: 'reporter' },
        ],
      }),
    },
    frontDoorPort: 8080,
  });
  try {
    const config = { services: { web: service('web'), database: service('database', { protocol: 'tcp', ports: [{ name: 'postgres', port: 5432 }] as ResolvedService['ports'], postgres: { engine: 'embedded', databases: [], settings: {} } }) } } as unknown as ResolvedConfig;
    view.setConfig(config);
    store.updateCheck('service:web.1', 'passing', 'HTTP GET /health: 200');
    const status = await view.status();

    const web1 = status.instances.find((i) => i.name === 'web.1')!;
    assert.deepEqual(web1.checks!.map((c) => [c.id, c.kind, c.status, c.output]), [
      ['service:web.1', 'http', 'passing', 'HTTP GET /health: 200'],
      ['service:web.1:9090:registrator', 'check', 'passing', ''],
      ['maintenance', 'check', 'warning', 'planned'],
    ]);
    assert.equal(typeof web1.checks![0]!.updatedAt, 'number', 'a check that changed says when');
    assert.deepEqual(status.instances.find((i) => i.name === 'database.1')!.checks!.map((c) => c.id), ['other-node']);

    const web = status.services.find((s) => s.name === 'web')!;
    assert.equal(web.kind, 'service');
    assert.deepEqual(web.urls, ['http://web.localhost:8080/']);
    assert.equal(web.postgres, undefined);
    const db = status.services.find((s) => s.name === 'database')!;
    assert.equal(db.kind, 'postgres');
    assert.equal(db.address, 'tcp://127.77.0.9:5432');
    assert.equal(db.urls, undefined);
    assert.deepEqual(db.postgres, {
      engine: 'embedded',
      databases: [
        { name: 'app', url: 'postgres://app_owner@127.77.0.9:5432/app' },
        { name: 'reports', url: 'postgres://reporter@127.77.0.9:5432/reports' },
      ],
    });
    assert.doesNotMatch(JSON.stringify(status), /hunter2/);
    // A service the config no longer has keeps its plain status.
    assert.deepEqual(status.services.find((s) => s.name === 'gone'), { name: 'gone', desired: 0, build: 'none', stopped: false });
  } finally {
    view.close();
  }
});
