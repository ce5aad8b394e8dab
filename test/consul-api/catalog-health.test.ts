// The catalog and health endpoints over a store that also holds the supervisor's instances: shapes, ?tag, ?node-meta,
// ?passing, ?filter, ?near, blocking queries, and catalog register/deregister.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi } from './harness.js';
import type { ApiUnderTest } from './harness.js';
import { waitFor } from '../unit/wait-for.js';

let t: ApiUnderTest;
before(async () => {
  t = await startApi();
  // The supervisor's view: two machines, three instances of "app", each with a check.
  const { store } = t;
  store.registerNode({ Node: 'm1', Address: '127.0.0.11', Meta: { rack: 'a' } });
  store.registerNode({ Node: 'm2', Address: '127.0.0.12', Meta: { rack: 'b' } });
  for (const [id, node, tags, env] of [
    ['app-1', 'm1', ['primary', 'v2'], 'prod'],
    ['app-2', 'm2', ['replica', 'v2'], 'prod'],
    ['app-3', 'm2', ['replica', 'v1'], 'staging'],
  ] as const) {
    store.registerService({ ID: id, Service: 'app', Tags: [...tags], Address: node === 'm1' ? '127.0.0.11' : '127.0.0.12', Port: 8080, Meta: { env }, Node: node, Owner: 'supervisor' });
    store.registerCheck({ Node: node, CheckID: `service:${id}`, Name: `Service 'app' check`, Status: id === 'app-3' ? 'critical' : 'passing', Output: '', ServiceID: id, ServiceName: 'app' });
  }
});
after(async () => {
  await t.close();
});

const raw = (path: string, init?: RequestInit) => fetch(`${t.base}${path}`, init);
const json = async <T>(path: string) => (await (await raw(path)).json()) as T;

type CatalogEntry = Record<string, unknown> & { Node: string; ServiceID: string; ServiceTags: string[]; ServiceMeta: Record<string, string> };
type HealthEntry = { Node: { Node: string; Meta: Record<string, string> }; Service: { ID: string; Tags: string[] }; Checks: { CheckID: string; Status: string; ServiceTags: string[] }[] };

test('catalog/services lists every service with its tags, the server\'s "consul" included', async () => {
  const services = (await t.consul.catalog.service.list()) as Record<string, string[]>;
  assert.deepEqual(services, { app: ['primary', 'replica', 'v1', 'v2'], consul: [] });
  assert.deepEqual(await t.consul.catalog.datacenters(), ['dc1']);
  const prodOnly = await json<Record<string, string[]>>(`/v1/catalog/services?filter=${encodeURIComponent('ServiceMeta.env == staging')}`);
  assert.deepEqual(prodOnly, { app: ['replica', 'v1'] });
  assert.deepEqual(await json(`/v1/catalog/services?node-meta=rack:a`), { app: ['primary', 'v2'] });
});

test('catalog/service/:name has Consul\'s ServiceNode shape, honours ?tag (repeatable), ?node-meta, ?filter, ?near', async () => {
  const nodes = (await t.consul.catalog.service.nodes('app')) as CatalogEntry[];
  assert.deepEqual(nodes.map((n) => n.ServiceID), ['app-1', 'app-2', 'app-3']);
  const first = nodes[0]!;
  for (const key of ['ID', 'Node', 'Address', 'Datacenter', 'TaggedAddresses', 'NodeMeta', 'ServiceKind', 'ServiceID', 'ServiceName', 'ServiceTags', 'ServiceAddress', 'ServiceWeights', 'ServiceMeta', 'ServicePort', 'ServiceEnableTagOverride', 'ServiceProxy', 'ServiceConnect', 'CreateIndex', 'ModifyIndex']) {
    assert.ok(key in first, `ServiceNode has ${key}`);
  }
  assert.deepEqual([first.Node, first.Address, first.Datacenter, first.NodeMeta, first.ServiceName, first.ServicePort, first.ServiceWeights], ['m1', '127.0.0.11', 'dc1', { rack: 'a' }, 'app', 8080, { Passing: 1, Warning: 1 }]);
  assert.deepEqual(first.TaggedAddresses, { lan: '127.0.0.11', lan_ipv4: '127.0.0.11', wan: '127.0.0.11', wan_ipv4: '127.0.0.11' });
  const ids = (rows: CatalogEntry[]) => rows.map((r) => r.ServiceID);
  assert.deepEqual(ids(await json(`/v1/catalog/service/app?tag=replica`)), ['app-2', 'app-3']);
  assert.deepEqual(ids(await json(`/v1/catalog/service/app?tag=replica&tag=V2`)), ['app-2']);
  assert.deepEqual(ids(await json(`/v1/catalog/service/app?node-meta=rack:b`)), ['app-2', 'app-3']);
  assert.deepEqual(ids(await json(`/v1/catalog/service/app?filter=${encodeURIComponent('ServiceMeta.env == prod and "v2" in ServiceTags')}`)), ['app-1', 'app-2']);
  assert.deepEqual(ids(await json(`/v1/catalog/service/app?near=m2`)), ['app-2', 'app-3', 'app-1']);
  assert.deepEqual(await json(`/v1/catalog/service/nothing`), []);
});

test('catalog/nodes, catalog/node/:node and the agent node', async () => {
  const nodes = (await t.consul.catalog.node.list()) as { Node: string; Address: string; Meta: Record<string, string> }[];
  assert.deepEqual(nodes.map((n) => n.Node), ['m1', 'm2', 'node1']);
  assert.deepEqual(nodes.find((n) => n.Node === 'node1') && { Node: 'node1', Address: '127.0.0.1' }, { Node: 'node1', Address: '127.0.0.1' });
  assert.deepEqual((await json<{ Node: string }[]>(`/v1/catalog/nodes?filter=${encodeURIComponent('Meta.rack == b')}`)).map((n) => n.Node), ['m2']);
  const m2 = (await t.consul.catalog.node.services('m2')) as { Node: { Node: string; Address: string }; Services: Record<string, { ID: string; Tags: string[] }> };
  assert.equal(m2.Node.Address, '127.0.0.12');
  assert.deepEqual(Object.keys(m2.Services), ['app-2', 'app-3']);
  const agentNode = await json<{ Services: Record<string, { Port: number }> }>('/v1/catalog/node/node1');
  assert.equal(agentNode.Services.consul!.Port, 8300);
  assert.equal(await json('/v1/catalog/node/nope'), null);
});

test('health/service: node checks included, Checks and Tags never null, ?passing as presence or a bool', async () => {
  const entries = (await t.consul.health.service('app')) as HealthEntry[];
  assert.equal(entries.length, 3);
  for (const e of entries) {
    assert.ok(Array.isArray(e.Checks) && Array.isArray(e.Service.Tags));
    for (const c of e.Checks) assert.ok(Array.isArray(c.ServiceTags));
  }
  const ids = (rows: HealthEntry[]) => rows.map((r) => r.Service.ID);
  assert.deepEqual(ids(await json('/v1/health/service/app?passing')), ['app-1', 'app-2']);
  assert.deepEqual(ids(await json('/v1/health/service/app?passing=true')), ['app-1', 'app-2']);
  assert.deepEqual(ids(await json('/v1/health/service/app?passing=1')), ['app-1', 'app-2']);
  assert.deepEqual(ids(await json('/v1/health/service/app?passing=false')), ['app-1', 'app-2', 'app-3']);
  const bad = await raw('/v1/health/service/app?passing=yes');
  assert.equal(bad.status, 400);
  assert.equal(await bad.text(), 'Invalid value for ?passing');
  assert.deepEqual(ids(await json('/v1/health/service/app?tag=replica&passing')), ['app-2']);
  // A node-level check failing takes every instance on that node out of ?passing.
  t.store.registerCheck({ Node: 'm1', CheckID: 'm1-disk', Name: 'disk', Status: 'warning', Output: '', ServiceID: '', ServiceName: '' });
  const withNodeCheck = await json<HealthEntry[]>('/v1/health/service/app');
  assert.deepEqual(withNodeCheck.find((e) => e.Service.ID === 'app-1')!.Checks.map((c) => c.CheckID), ['m1-disk', 'service:app-1']);
  assert.deepEqual(ids(await json('/v1/health/service/app?passing')), ['app-2']);
  t.store.deregisterCheck('m1-disk');
  assert.deepEqual(await json('/v1/health/service/nothing'), []);
});

test('health/service ?filter over Node, Service and Checks', async () => {
  const ids = async (filter: string) => (await json<HealthEntry[]>(`/v1/health/service/app?filter=${encodeURIComponent(filter)}`)).map((r) => r.Service.ID);
  assert.deepEqual(await ids('Service.Meta.env == prod'), ['app-1', 'app-2']);
  assert.deepEqual(await ids('Checks.Status == critical'), ['app-3']);
  assert.deepEqual(await ids('Node.Meta.rack == b and not "v1" in Service.Tags'), ['app-2']);
  assert.deepEqual(await ids('Service.Tags contains primary or Service.ID matches "-3$"'), ['app-1', 'app-3']);
  const viaClient = (await t.consul.health.service({ service: 'app', filter: 'Service.Meta.env != prod' })) as HealthEntry[];
  assert.deepEqual(viaClient.map((r) => r.Service.ID), ['app-3']);
  const bad = await raw(`/v1/health/service/app?filter=${encodeURIComponent('Service.Nope == 1')}`);
  assert.equal(bad.status, 400);
  assert.equal(await bad.text(), 'Failed to create result filter: Selector "Service.Nope" is not valid');
  const syntax = await raw(`/v1/health/service/app?filter=${encodeURIComponent('Service.ID == "app-1" and (')}`);
  assert.equal(syntax.status, 400);
  assert.match(await syntax.text(), /^Failed to create result filter: 1:\d+ \(\d+\): /);
});

test('health/checks, health/node and health/state', async () => {
  const checks = (await t.consul.health.checks('app')) as { CheckID: string }[];
  assert.deepEqual(checks.map((c) => c.CheckID), ['service:app-1', 'service:app-2', 'service:app-3']);
  const node = (await t.consul.health.node('m2')) as { CheckID: string }[];
  assert.deepEqual(node.map((c) => c.CheckID), ['service:app-2', 'service:app-3']);
  const critical = (await t.consul.health.state('critical')) as { CheckID: string }[];
  assert.deepEqual(critical.map((c) => c.CheckID), ['service:app-3']);
  const any = (await t.consul.health.state('any')) as { CheckID: string }[];
  assert.ok(any.some((c) => c.CheckID === 'serfHealth'));
  assert.deepEqual((await json<{ CheckID: string }[]>(`/v1/health/state/passing?filter=${encodeURIComponent('ServiceName == app')}`)).map((c) => c.CheckID), ['service:app-1', 'service:app-2']);
  const bad = await raw('/v1/health/state/sick');
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /^Invalid check state "sick"/);
});

test('a blocking health query returns when an instance changes, not on unrelated writes', async () => {
  const first = await raw('/v1/health/service/app');
  const index = Number(first.headers.get('x-consul-index'));
  assert.ok(index >= 1);
  assert.equal(first.headers.get('x-consul-knownleader'), 'true');
  assert.equal(first.headers.get('x-consul-effective-consistency'), 'leader');
  let done = false;
  const waiting = raw(`/v1/health/service/app?index=${index}&wait=10s`).then((r) => {
    done = true;
    return r;
  });
  await t.consul.kv.set('unrelated', 'write');
  t.store.registerService({ ID: 'other-1', Service: 'other', Tags: [], Address: '', Port: 1, Meta: {}, Node: 'm1', Owner: 'supervisor' });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(done, false, 'writes to other services do not answer the query');
  t.store.updateCheck('service:app-3', 'passing', 'recovered');
  const res = await waiting;
  assert.ok(Number(res.headers.get('x-consul-index')) > index);
  assert.deepEqual((await res.json() as HealthEntry[]).filter((e) => e.Checks.every((c) => c.Status === 'passing')).map((e) => e.Service.ID), ['app-1', 'app-2', 'app-3']);
  t.store.updateCheck('service:app-3', 'critical', '');
  t.store.deregisterService('other-1');
});

test('a consul watch on health/service follows instances coming and going', async () => {
  const seen: string[][] = [];
  const watch = t.consul.watch({ method: t.consul.health.service, options: { service: 'app', passing: 'true', wait: '5s' } as never });
  watch.on('change', (data: HealthEntry[]) => seen.push(data.map((e) => e.Service.ID)));
  try {
    await waitFor('the first answer', () => seen.length >= 1);
    assert.deepEqual(seen.at(-1), ['app-1', 'app-2']);
    t.store.updateCheck('service:app-2', 'critical', 'down');
    await waitFor('app-2 to leave', () => seen.at(-1)?.join() === 'app-1');
    t.store.updateCheck('service:app-2', 'passing', 'up');
    await waitFor('app-2 to return', () => seen.at(-1)?.join() === 'app-1,app-2');
  } finally {
    watch.end();
  }
});

test('catalog/register and deregister: external services with unexecuted checks; the supervisor\'s stay', async () => {
  // The client answers catalog writes with nothing (it drops the `true` body); raw fetch checks the body below.
  await t.consul.catalog.register({
    node: 'db-host',
    address: '10.1.2.3',
    nodemeta: { kind: 'external' },
    service: { id: 'pg-1', service: 'postgres', port: 5432, tags: ['primary'] },
    check: { checkid: 'pg-alive', name: 'pg alive', status: 'passing', serviceid: 'pg-1', definition: { tcp: '10.1.2.3:5432', intervalduration: '10s' } },
  } as never);
  const [pg] = (await t.consul.health.service('postgres')) as HealthEntry[];
  assert.deepEqual([pg!.Node.Node, pg!.Node.Meta, pg!.Service.ID, pg!.Checks.map((c) => [c.CheckID, c.Status])], ['db-host', { kind: 'external' }, 'pg-1', [['pg-alive', 'passing']]]);
  const services = (await t.consul.catalog.service.list()) as Record<string, string[]>;
  assert.deepEqual(services.postgres, ['primary']);

  const missing = await raw('/v1/catalog/register', { method: 'PUT', body: JSON.stringify({ Address: '1.2.3.4' }) });
  assert.equal(missing.status, 400);
  assert.equal(await missing.text(), 'Must provide node');
  const clash = await raw('/v1/catalog/register', { method: 'PUT', body: JSON.stringify({ Node: 'x', Address: '1.2.3.4', Service: { ID: 'app-1', Service: 'app' } }) });
  assert.equal(clash.status, 400);
  assert.match(await clash.text(), /Service ID "app-1" is already registered on node "m1"/);
  const otherDc = await raw('/v1/catalog/register', { method: 'PUT', body: JSON.stringify({ Node: 'x', Address: '1.2.3.4', Datacenter: 'dc2' }) });
  assert.equal(otherDc.status, 500);
  assert.equal(await otherDc.text(), 'No path to datacenter');

  // Deregistering the supervisor's instance is a no-op: its owner keeps it registered (as anti-entropy would).
  const noop = await raw('/v1/catalog/deregister', { method: 'PUT', body: JSON.stringify({ Node: 'm1', ServiceID: 'app-1' }) });
  assert.equal(await noop.text(), 'true');
  assert.ok(t.store.service('app-1'));
  await t.consul.catalog.deregister({ node: 'db-host', checkid: 'pg-alive' } as never);
  assert.deepEqual(((await t.consul.health.service('postgres')) as HealthEntry[])[0]!.Checks, []);
  await t.consul.catalog.deregister({ node: 'db-host' } as never);
  assert.deepEqual(await t.consul.health.service('postgres'), []);
  assert.equal(t.store.node('db-host'), undefined);
  assert.ok(!t.data.registrations.all().some((r) => r.id.includes('db-host')));
});
