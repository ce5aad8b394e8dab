// The agent endpoints: self/members, service and check registration with real checks (HTTP, TCP, TTL), TTL updates,
// maintenance, DeregisterCriticalServiceAfter reaping, and registrations surviving a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startApi } from './harness.js';
import type { ApiUnderTest } from './harness.js';
import { waitFor } from '../unit/wait-for.js';

let t: ApiUnderTest;
let health: { port: number; status: number; close(): Promise<void> };

before(async () => {
  t = await startApi();
  // A real HTTP endpoint for HTTP checks; the test flips the status it answers with.
  const state = { status: 200 };
  const server = createServer((_req, res) => {
    res.writeHead(state.status);
    res.end(state.status === 200 ? 'ok' : 'down');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  health = {
    port: (server.address() as AddressInfo).port,
    get status() {
      return state.status;
    },
    set status(v: number) {
      state.status = v;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
});
after(async () => {
  await t.close();
  await health.close();
});

const raw = (path: string, init?: RequestInit) => fetch(`${t.base}${path}`, init);
const put = (path: string, body?: unknown) => raw(path, { method: 'PUT', ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });

type Entry = { Node: { Node: string }; Service: { ID: string; Service: string; Tags: string[]; Port: number }; Checks: { CheckID: string; Status: string; Output: string }[] };
const healthOf = async (name: string, passing = false) => (await t.consul.health.service({ service: name, passing })) as Entry[];

test('self, members, status and the agent node the clients expect', async () => {
  const self = (await t.consul.agent.self()) as { Config: { Server: boolean; Datacenter: string; NodeName: string; NodeID: string; SessionTTLMin: string }; Member: { Name: string; Addr: string; Status: number } };
  assert.equal(self.Config.Server, true);
  assert.equal(self.Config.Datacenter, 'dc1');
  assert.equal(self.Config.NodeName, 'node1');
  assert.match(self.Config.NodeID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(self.Config.SessionTTLMin, '10s');
  assert.equal(self.Member.Name, 'node1');
  assert.equal(self.Member.Addr, '127.0.0.1');
  const members = (await t.consul.agent.members()) as { Name: string; Port: number; Status: number; Tags: Record<string, string> }[];
  assert.equal(members.length, 1);
  assert.deepEqual([members[0]!.Name, members[0]!.Port, members[0]!.Status, members[0]!.Tags.role, members[0]!.Tags.dc], ['node1', 8301, 1, 'consul', 'dc1']);
  assert.equal(await t.consul.status.leader(), '127.0.0.1:8300');
  assert.deepEqual(await t.consul.status.peers(), ['127.0.0.1:8300']);
  const nodeChecks = (await t.consul.health.node('node1')) as { CheckID: string; Status: string; Output: string }[];
  assert.equal(nodeChecks[0]!.CheckID, 'serfHealth');
  assert.equal(nodeChecks[0]!.Status, 'passing');
  assert.equal(nodeChecks[0]!.Output, 'Agent alive and reachable');
  // A fresh agent lists no services or checks of its own (the server's "consul" service is the catalog's).
  assert.deepEqual(await t.consul.agent.service.list(), {});
});

test('register with a TTL check: critical until passed, named as Consul names it, gone on deregister', async () => {
  await t.consul.agent.service.register({ name: 'ttl-svc', tags: ['a'], port: 9000, meta: { env: 'dev' }, check: { name: '', ttl: '30s', timeout: '' } as never });
  const services = (await t.consul.agent.service.list()) as Record<string, { ID: string; Service: string; Tags: string[]; Port: number; Meta: Record<string, string>; Weights: unknown; Datacenter: string }>;
  assert.deepEqual(services['ttl-svc'] && [services['ttl-svc'].Service, services['ttl-svc'].Port, services['ttl-svc'].Tags, services['ttl-svc'].Meta, services['ttl-svc'].Weights, services['ttl-svc'].Datacenter], [
    'ttl-svc',
    9000,
    ['a'],
    { env: 'dev' },
    { Passing: 1, Warning: 1 },
    'dc1',
  ]);
  const checks = (await t.consul.agent.check.list()) as Record<string, { Status: string; Name: string; Type: string; ServiceID: string; ServiceTags: string[] }>;
  const c = checks['service:ttl-svc']!;
  assert.deepEqual([c.Status, c.Name, c.Type, c.ServiceID, c.ServiceTags], ['critical', "Service 'ttl-svc' check", 'ttl', 'ttl-svc', ['a']]);

  await t.consul.agent.check.pass({ id: 'service:ttl-svc', note: 'all good' });
  let [entry] = await healthOf('ttl-svc');
  assert.deepEqual(entry!.Checks.map((x) => [x.CheckID, x.Status]).sort(), [
    ['serfHealth', 'passing'],
    ['service:ttl-svc', 'passing'],
  ]);
  assert.equal(entry!.Checks.find((x) => x.CheckID === 'service:ttl-svc')!.Output, 'all good');
  await t.consul.agent.check.warn('service:ttl-svc');
  [entry] = await healthOf('ttl-svc');
  assert.equal(entry!.Checks.find((x) => x.CheckID === 'service:ttl-svc')!.Status, 'warning');
  assert.deepEqual(await healthOf('ttl-svc', true), [], '?passing leaves out an instance with a warning');
  const update = await put('/v1/agent/check/update/service:ttl-svc', { Status: 'passing', Output: 'updated' });
  assert.equal(update.status, 200);
  [entry] = await healthOf('ttl-svc', true);
  assert.equal(entry!.Checks.find((x) => x.CheckID === 'service:ttl-svc')!.Output, 'updated');
  await t.consul.agent.check.fail('service:ttl-svc');
  assert.deepEqual(await healthOf('ttl-svc', true), []);

  await t.consul.agent.service.deregister('ttl-svc');
  assert.deepEqual(await healthOf('ttl-svc'), []);
  assert.equal(((await t.consul.agent.check.list()) as Record<string, unknown>)['service:ttl-svc'], undefined);
  const again = await put('/v1/agent/service/deregister/ttl-svc');
  assert.equal(again.status, 404);
  assert.equal(await again.text(), 'Unknown service ID "ttl-svc". Ensure that the service ID is passed, not the service name.');
});

test('a TTL check whose TTL runs out turns the instance critical', async () => {
  await t.consul.agent.service.register({ name: 'heartbeat', id: 'heartbeat-1', port: 1, check: { name: 'beat', ttl: '300ms', timeout: '' } as never });
  await t.consul.agent.check.pass('service:heartbeat-1');
  assert.equal((await healthOf('heartbeat', true)).length, 1);
  await waitFor('the TTL to expire', async () => (await healthOf('heartbeat', true)).length === 0, 10_000);
  const [entry] = await healthOf('heartbeat');
  const check = entry!.Checks.find((x) => x.CheckID === 'service:heartbeat-1')!;
  assert.equal(check.Status, 'critical');
  assert.match(check.Output, /TTL expired/);
  const critical = (await t.consul.health.state('critical')) as { CheckID: string }[];
  assert.ok(critical.some((x) => x.CheckID === 'service:heartbeat-1'));
  await t.consul.agent.service.deregister('heartbeat-1');
});

test('HTTP and TCP checks run against real endpoints; several checks are numbered', async () => {
  await t.consul.agent.service.register({
    name: 'web',
    id: 'web-1',
    address: '127.0.0.1',
    port: health.port,
    checks: [
      { name: 'http', http: `http://127.0.0.1:${health.port}/health`, interval: '100ms', timeout: '1s', header: { 'X-Probe': ['1'] }, tlsskipverify: true },
      { name: 'tcp', tcp: `127.0.0.1:${health.port}`, interval: '100ms', timeout: '1s' },
    ] as never,
  });
  const checks = (await t.consul.agent.check.list()) as Record<string, { Name: string; Type: string; Interval: string; Definition: { HTTP?: string; TCP?: string } }>;
  assert.deepEqual(Object.keys(checks).filter((k) => k.startsWith('service:web-1')).sort(), ['service:web-1:1', 'service:web-1:2']);
  assert.equal(checks['service:web-1:1']!.Type, 'http');
  assert.equal(checks['service:web-1:1']!.Definition.HTTP, `http://127.0.0.1:${health.port}/health`);
  assert.equal(checks['service:web-1:2']!.Type, 'tcp');
  assert.equal(checks['service:web-1:2']!.Interval, '100ms');
  await waitFor('both checks to pass', async () => (await healthOf('web', true)).length === 1);
  health.status = 503;
  await waitFor('the HTTP check to fail', async () => (await healthOf('web', true)).length === 0);
  const [entry] = await healthOf('web');
  assert.equal(entry!.Checks.find((c) => c.CheckID === 'service:web-1:1')!.Status, 'critical');
  assert.equal(entry!.Checks.find((c) => c.CheckID === 'service:web-1:2')!.Status, 'passing');
  health.status = 200;
  await waitFor('the HTTP check to recover', async () => (await healthOf('web', true)).length === 1);

  // Re-registering with ?replace-existing-checks drops the checks the new definition lacks.
  const replaced = await put('/v1/agent/service/register?replace-existing-checks', { Name: 'web', ID: 'web-1', Port: health.port, Check: { CheckID: 'only', TTL: '1m', Status: 'passing' } });
  assert.equal(replaced.status, 200);
  const after = (await t.consul.agent.check.list()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(after).filter((k) => k.startsWith('service:web-1') || k === 'only'), ['only']);
  await t.consul.agent.service.deregister('web-1');
});

test('check/register, deregister, and the errors of unknown checks', async () => {
  const reg = await put('/v1/agent/check/register', { Name: 'disk', TTL: '1m', Notes: 'node level' });
  assert.equal(reg.status, 200);
  const checks = (await t.consul.agent.check.list()) as Record<string, { ServiceID: string; Notes: string; Status: string }>;
  assert.deepEqual([checks.disk!.ServiceID, checks.disk!.Notes, checks.disk!.Status], ['', 'node level', 'critical']);
  const noService = await put('/v1/agent/check/register', { Name: 'x', TTL: '1m', ServiceID: 'nope' });
  assert.equal(noService.status, 404);
  assert.equal(await noService.text(), 'ServiceID "nope" does not exist');
  const noName = await put('/v1/agent/check/register', { TTL: '1m' });
  assert.equal(noName.status, 400);
  assert.equal(await noName.text(), 'Missing check name');
  const badStatus = await put('/v1/agent/check/register', { Name: 'x', TTL: '1m', Status: 'fine' });
  assert.equal(badStatus.status, 400);
  assert.equal(await badStatus.text(), 'Bad check status');
  const unknown = await put('/v1/agent/check/pass/nope');
  assert.equal(unknown.status, 404);
  assert.equal(await unknown.text(), 'Unknown check ID "nope". Ensure that the check ID is passed, not the check name.');
  const badUpdate = await put('/v1/agent/check/update/disk', { Status: 'meh' });
  assert.equal(badUpdate.status, 400);
  assert.equal(await badUpdate.text(), "Invalid check status: 'meh'");
  await t.consul.agent.check.deregister('disk');
  assert.equal((await put('/v1/agent/check/deregister/disk')).status, 404);

  // A check that is not a TTL check cannot be passed.
  await put('/v1/agent/check/register', { Name: 'probe', TCP: `127.0.0.1:${health.port}`, Interval: '1s' });
  const notTtl = await put('/v1/agent/check/pass/probe');
  assert.equal(notTtl.status, 500);
  assert.equal(await notTtl.text(), 'CheckID "probe" does not have associated TTL');
  await t.consul.agent.check.deregister('probe');
});

test('invalid registrations are refused with Consul\'s messages', async () => {
  const cases: [unknown, number, RegExp][] = [
    [{ Port: 1 }, 400, /^Missing service name$/],
    [{ Name: 'x', Address: '0.0.0.0' }, 400, /^Invalid service address$/],
    [{ Name: 'x', Port: 'eighty' }, 400, /^Request decode failed: .*'Port' expected type 'int', got unconvertible type 'string', value: 'eighty'/s],
    [{ Name: 'x', Tags: 'a,b' }, 400, /^Request decode failed: .*'Tags' expected type '\[\]string'/s],
    [{ Name: 'x', Check: { HTTP: 'http://127.0.0.1:1/' } }, 400, /^Invalid check: Interval must be > 0/],
    [{ Name: 'x', Check: { TTL: '1m', Interval: '10s' } }, 400, /^Invalid check: Interval and TTL cannot both be specified$/],
    [{ Name: 'x', Check: { TTL: 'soon' } }, 400, /^Request decode failed: .*time: invalid duration "soon"/s],
    [{ Name: 'x', Check: { Args: ['/bin/true'], Interval: '10s' } }, 400, /^Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true$/],
    [{ Name: 'x', Check: { GRPC: '127.0.0.1:1', Interval: '10s' } }, 400, /^Invalid check: GRPC checks are not supported/],
    [{ Name: 'x', Check: { TTL: '1m', Status: 'great' } }, 400, /^Status for checks must 'passing', 'warning', 'critical'$/],
    [{ Name: 'x', Weights: { Passing: 0 } }, 400, /^Invalid Weights: Passing must be greater than 0$/],
    [{ Name: 'x', Meta: { 'bad key': 'v' } }, 400, /^Invalid Service Meta: Key contains invalid characters$/],
    [{ Name: 'x', Kind: 'connect-proxy' }, 400, /^Invalid service kind "connect-proxy"/],
    [{ Name: 'consul' }, 400, /reserved/],
    ['{"Name": ', 400, /^Request decode failed: /],
    ['', 400, /^Request decode failed: EOF$/],
    [[1, 2], 400, /^Request decode failed: /],
  ];
  for (const [body, status, re] of cases) {
    const res = await put('/v1/agent/service/register', body);
    const text = await res.text();
    assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.status} ${text}`);
    assert.match(text, re, JSON.stringify(body));
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  }
  assert.deepEqual(Object.keys((await t.consul.agent.service.list()) as object), []);
});

test('service and node maintenance add critical checks and take instances out of ?passing', async () => {
  await t.consul.agent.service.register({ name: 'maint', port: 1, check: { name: 'ok', ttl: '1m', status: 'passing', timeout: '' } as never });
  assert.equal((await healthOf('maint', true)).length, 1);
  await t.consul.agent.service.maintenance({ id: 'maint', enable: true, reason: 'upgrading' });
  let checks = (await t.consul.agent.check.list()) as Record<string, { Status: string; Notes: string; Name: string }>;
  assert.deepEqual([checks['_service_maintenance:maint']!.Status, checks['_service_maintenance:maint']!.Notes, checks['_service_maintenance:maint']!.Name], ['critical', 'upgrading', 'Service Maintenance Mode']);
  assert.deepEqual(await healthOf('maint', true), []);
  const text = await raw('/v1/agent/health/service/name/maint?format=text');
  assert.equal(text.status, 503);
  assert.equal(await text.text(), 'maintenance');
  await t.consul.agent.service.maintenance({ id: 'maint', enable: false });
  assert.equal((await healthOf('maint', true)).length, 1);

  const node = await put('/v1/agent/maintenance?enable=true');
  assert.equal(node.status, 200);
  checks = (await t.consul.agent.check.list()) as Record<string, { Status: string; Notes: string; Name: string }>;
  assert.equal(checks._node_maintenance!.Notes, 'Maintenance mode is enabled for this node, but no reason was provided. This is a default message.');
  assert.deepEqual(await healthOf('maint', true), [], 'node maintenance takes every instance on the node out');
  await put('/v1/agent/maintenance?enable=false');
  assert.equal((await healthOf('maint', true)).length, 1);

  assert.equal(await (await put('/v1/agent/maintenance')).text(), 'Missing value for enable');
  assert.equal(await (await put('/v1/agent/maintenance?enable=maybe')).text(), 'Invalid value for enable: "maybe"');
  assert.equal((await put('/v1/agent/service/maintenance/nope?enable=true')).status, 404);
  const byId = await raw('/v1/agent/health/service/id/maint');
  assert.equal(byId.status, 200);
  assert.equal(((await byId.json()) as { AggregatedStatus: string }).AggregatedStatus, 'passing');
  await t.consul.agent.service.deregister('maint');
});

test('DeregisterCriticalServiceAfter reaps a service that stays critical, and forgets it for good', async () => {
  await t.consul.agent.service.register({
    name: 'doomed',
    port: 1,
    check: { name: 'beat', ttl: '200ms', deregistercriticalserviceafter: '300ms', timeout: '' } as never,
  });
  assert.equal((await healthOf('doomed')).length, 1);
  await waitFor('the reaper', async () => (await healthOf('doomed')).length === 0, 15_000);
  assert.equal(((await t.consul.agent.service.list()) as Record<string, unknown>).doomed, undefined);
  assert.equal(((await t.consul.agent.check.list()) as Record<string, unknown>)['service:doomed'], undefined);
  await waitFor('its durable record to go', () => !t.data.registrations.all().some((r) => r.id.includes('doomed')));
});

test('agent/service/:id answers with a ContentHash and blocks on ?hash', async () => {
  await put('/v1/agent/service/register', { Name: 'hashed', Port: 1 });
  const first = await raw('/v1/agent/service/hashed');
  const body = (await first.json()) as { ID: string; ContentHash: string };
  assert.equal(body.ID, 'hashed');
  assert.equal(first.headers.get('x-consul-contenthash'), body.ContentHash);
  const waiting = raw(`/v1/agent/service/hashed?hash=${body.ContentHash}&wait=5s`);
  await put('/v1/agent/service/register', { Name: 'hashed', Port: 2 });
  const changed = (await (await waiting).json()) as { Port: number; ContentHash: string };
  assert.equal(changed.Port, 2);
  assert.notEqual(changed.ContentHash, body.ContentHash);
  const missing = await raw('/v1/agent/service/nope');
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), 'unknown service ID: nope');
  await t.consul.agent.service.deregister('hashed');
});

test('?filter on agent services and checks', async () => {
  await put('/v1/agent/service/register', { Name: 'api', ID: 'api-1', Tags: ['v1'], Meta: { env: 'prod' }, Port: 1 });
  await put('/v1/agent/service/register', { Name: 'api', ID: 'api-2', Tags: ['v2'], Meta: { env: 'staging' }, Port: 2 });
  const list = async (filter: string) => Object.keys((await t.consul.agent.service.list({ filter })) as object);
  assert.deepEqual(await list('Meta.env == prod'), ['api-1']);
  assert.deepEqual(await list('"v2" in Tags or Port == 1'), ['api-1', 'api-2']);
  assert.deepEqual(await list('not (Service == api)'), []);
  const bad = await raw(`/v1/agent/services?filter=${encodeURIComponent('Meta.env ==')}`);
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /^Failed to create result filter: 1:12 \(11\): no match found/);
  await t.consul.agent.service.deregister('api-1');
  await t.consul.agent.service.deregister('api-2');
});

test('registrations made through the API survive a restart of the daemon', async () => {
  const dirApi = await startApi();
  const dir = dirApi.dir;
  try {
    await dirApi.consul.agent.service.register({ name: 'kept', id: 'kept-1', tags: ['x'], port: 7, check: { name: 'alive', ttl: '1m', status: 'passing', timeout: '' } as never });
    const res = await fetch(`${dirApi.base}/v1/agent/check/register`, { method: 'PUT', body: JSON.stringify({ Name: 'node-disk', TTL: '1m' }) });
    assert.equal(res.status, 200);
    await fetch(`${dirApi.base}/v1/agent/service/maintenance/kept-1?enable=true&reason=patching`, { method: 'PUT' });
    const cat = await fetch(`${dirApi.base}/v1/catalog/register`, {
      method: 'PUT',
      body: JSON.stringify({ Node: 'ext', Address: '10.0.0.9', Service: { Service: 'legacy', Port: 5432 }, Check: { CheckID: 'legacy-up', Name: 'up', Status: 'passing', ServiceID: 'legacy' } }),
    });
    assert.equal(cat.status, 200);
  } finally {
    await dirApi.close({ removeDir: false });
  }
  const again = await startApi({ dir });
  try {
    const services = (await again.consul.agent.service.list()) as Record<string, { Tags: string[]; Port: number }>;
    assert.deepEqual(services['kept-1'] && [services['kept-1'].Tags, services['kept-1'].Port], [['x'], 7]);
    const checks = (await again.consul.agent.check.list()) as Record<string, { Notes: string }>;
    assert.deepEqual(Object.keys(checks).sort(), ['_service_maintenance:kept-1', 'node-disk', 'service:kept-1']);
    assert.equal(checks['_service_maintenance:kept-1']!.Notes, 'patching');
    const legacy = (await again.consul.catalog.service.nodes('legacy')) as { Node: string; Address: string; ServicePort: number }[];
    assert.deepEqual(legacy.map((l) => [l.Node, l.Address, l.ServicePort]), [['ext', '10.0.0.9', 5432]]);
    const legacyHealth = (await again.consul.health.service('legacy')) as Entry[];
    assert.deepEqual(legacyHealth[0]!.Checks.map((c) => [c.CheckID, c.Status]), [['legacy-up', 'passing']]);
  } finally {
    await again.close({ removeDir: true });
  }
});

test('with enable_script_checks, Args checks run the command and follow its exit status', async () => {
  const scripted = await startApi({ scriptChecks: true });
  try {
    const marker = `${scripted.dir}/healthy`;
    const script = `process.exit(require('node:fs').existsSync(${JSON.stringify(marker)}) ? 0 : 2)`;
    const res = await fetch(`${scripted.base}/v1/agent/service/register`, {
      method: 'PUT',
      body: JSON.stringify({ Name: 'scripted', Port: 1, Check: { Args: [process.execPath, '-e', script], Interval: '100ms' } }),
    });
    assert.equal(res.status, 200);
    const statusOf = async () => {
      const [entry] = (await scripted.consul.health.service('scripted')) as Entry[];
      return entry?.Checks.find((c) => c.CheckID === 'service:scripted')?.Status;
    };
    await waitFor('the script to fail', async () => (await statusOf()) === 'critical');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(marker, 'ok');
    await waitFor('the script to pass', async () => (await statusOf()) === 'passing');
    const checks = (await scripted.consul.agent.check.list()) as Record<string, { Type: string; Definition: { ScriptArgs?: string[] } }>;
    assert.equal(checks['service:scripted']!.Type, 'script');
    assert.equal(checks['service:scripted']!.Definition.ScriptArgs![0], process.execPath);
  } finally {
    await scripted.close();
  }
});
