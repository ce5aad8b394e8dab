// Unit: the bus store — catalog, checks, one monotonic index, change subscriptions and blocking waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBusStore, worstStatus } from '../../src/bus/index.js';
import type { BusStore, StoreChange } from '../../src/bus/index.js';

function storeWithInstance(): BusStore {
  const store = createBusStore({ nodeName: 'agent' });
  store.registerNode({ Node: 'm1', Address: '127.0.1.1' });
  store.registerService({ ID: 'web-1', Service: 'web', Tags: ['v1'], Address: '127.0.1.1', Port: 8080, Meta: {}, Node: 'm1' });
  return store;
}

function check(id: string, serviceId: string, node = 'm1', status: 'passing' | 'warning' | 'critical' = 'passing') {
  return { Node: node, CheckID: id, Name: id, Status: status, Output: '', ServiceID: serviceId, ServiceName: serviceId ? 'web' : '' };
}

test('a new store holds its own agent node', () => {
  const store = createBusStore({ nodeName: 'agent', nodeAddress: '127.0.0.9', datacenter: 'dc9' });
  assert.equal(store.datacenter, 'dc9');
  assert.equal(store.nodeName, 'agent');
  assert.equal(store.node('agent')?.Address, '127.0.0.9');
  assert.equal(store.node('agent')?.Datacenter, 'dc9');
});

test('every write strictly increases the index, and records carry Create/ModifyIndex', () => {
  const store = createBusStore({ nodeName: 'agent' });
  const seen = [store.index()];
  const step = (fn: () => void) => {
    fn();
    seen.push(store.index());
  };
  step(() => store.registerNode({ Node: 'm1', Address: '127.0.1.1' }));
  step(() => store.registerService({ ID: 'web-1', Service: 'web', Tags: [], Address: '127.0.1.1', Port: 80, Meta: {}, Node: 'm1' }));
  const created = store.service('web-1')!.CreateIndex;
  step(() => store.registerService({ ID: 'web-1', Service: 'web', Tags: ['x'], Address: '127.0.1.1', Port: 80, Meta: {}, Node: 'm1' }));
  step(() => store.registerCheck(check('c1', 'web-1', 'm1', 'critical')));
  step(() => store.updateCheck('c1', 'passing', 'ok'));
  step(() => store.deregisterCheck('c1'));
  step(() => store.deregisterService('web-1'));
  step(() => store.deregisterNode('m1'));
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `index ${seen[i]} after ${seen[i - 1]} (write ${i})`);
  // Re-registration keeps CreateIndex and moves ModifyIndex.
  const again = createBusStore({ nodeName: 'agent' });
  again.registerNode({ Node: 'm1', Address: 'a' });
  again.registerService({ ID: 's', Service: 's', Tags: [], Address: 'a', Port: 1, Meta: {}, Node: 'm1' });
  const first = again.service('s')!;
  again.registerService({ ID: 's', Service: 's', Tags: ['t'], Address: 'a', Port: 1, Meta: {}, Node: 'm1' });
  const second = again.service('s')!;
  assert.equal(second.CreateIndex, first.CreateIndex);
  assert.ok(second.ModifyIndex > first.ModifyIndex);
  assert.equal(second.ModifyIndex, again.index());
  assert.ok(created > 0);
});

test('registerService fills Weights and Owner defaults; checks carry the service tags', () => {
  const store = storeWithInstance();
  const svc = store.service('web-1')!;
  assert.deepEqual(svc.Weights, { Passing: 1, Warning: 1 });
  assert.equal(svc.Owner, 'supervisor');
  store.registerCheck(check('c1', 'web-1'));
  assert.deepEqual(store.check('c1')!.ServiceTags, ['v1']);
  assert.deepEqual(store.instancesOf('web').map((s) => s.ID), ['web-1']);
  assert.deepEqual(store.instancesOf('nope'), []);
});

test('an idempotent updateCheck does not bump the index or notify', () => {
  const store = storeWithInstance();
  store.registerCheck(check('c1', 'web-1', 'm1', 'critical'));
  store.updateCheck('c1', 'passing', 'HTTP 200');
  const before = store.index();
  const changes: StoreChange[] = [];
  store.subscribe((c) => changes.push(c));
  store.updateCheck('c1', 'passing', 'HTTP 200');
  assert.equal(store.index(), before);
  assert.deepEqual(changes, []);
  // A new output with the same status is a write.
  store.updateCheck('c1', 'passing', 'HTTP 200 again');
  assert.equal(store.index(), before + 1);
  assert.equal(store.check('c1')!.ModifyIndex, before + 1);
});

test('updateCheck and deregister calls on unknown ids are no-ops', () => {
  const store = storeWithInstance();
  const before = store.index();
  store.updateCheck('nope', 'critical', 'x');
  store.deregisterCheck('nope');
  store.deregisterService('nope');
  store.deregisterNode('nope');
  assert.equal(store.index(), before);
});

test('deregisterService removes its checks, and leaves other services\' checks', () => {
  const store = storeWithInstance();
  store.registerService({ ID: 'web-2', Service: 'web', Tags: [], Address: '127.0.1.1', Port: 8081, Meta: {}, Node: 'm1' });
  store.registerCheck(check('c1', 'web-1'));
  store.registerCheck(check('c1b', 'web-1'));
  store.registerCheck(check('c2', 'web-2'));
  store.deregisterService('web-1');
  assert.equal(store.service('web-1'), undefined);
  assert.deepEqual(store.checksOfService('web-1'), []);
  assert.deepEqual(store.checks().map((c) => c.CheckID), ['c2']);
});

test('deregisterNode removes its services and their checks, and its node checks', () => {
  const store = storeWithInstance();
  store.registerNode({ Node: 'm2', Address: '127.0.1.2' });
  store.registerService({ ID: 'web-2', Service: 'web', Tags: [], Address: '127.0.1.2', Port: 8080, Meta: {}, Node: 'm2' });
  store.registerCheck(check('svc-check', 'web-1'));
  store.registerCheck(check('node-check', '', 'm1'));
  store.registerCheck(check('other', 'web-2', 'm2'));
  store.deregisterNode('m1');
  assert.equal(store.node('m1'), undefined);
  assert.equal(store.service('web-1'), undefined);
  assert.deepEqual(store.services().map((s) => s.ID), ['web-2']);
  assert.deepEqual(store.checks().map((c) => c.CheckID), ['other']);
  assert.ok(store.node('agent'));
});

test('statusOf is the worst of the service\'s and its node\'s checks, passing with none', () => {
  const store = storeWithInstance();
  assert.equal(store.statusOf('web-1'), 'passing');
  store.registerCheck(check('svc', 'web-1', 'm1', 'passing'));
  assert.equal(store.statusOf('web-1'), 'passing');
  store.registerCheck(check('node', '', 'm1', 'warning'));
  assert.equal(store.statusOf('web-1'), 'warning');
  store.updateCheck('svc', 'critical', 'down');
  assert.equal(store.statusOf('web-1'), 'critical');
  store.updateCheck('svc', 'passing', 'up');
  store.updateCheck('node', 'passing', 'up');
  assert.equal(store.statusOf('web-1'), 'passing');
  // Another node's check and another service's check do not count.
  store.registerNode({ Node: 'm2', Address: '127.0.1.2' });
  store.registerCheck(check('elsewhere', '', 'm2', 'critical'));
  store.registerService({ ID: 'web-2', Service: 'web', Tags: [], Address: '127.0.1.1', Port: 8081, Meta: {}, Node: 'm1' });
  store.registerCheck(check('sibling', 'web-2', 'm1', 'critical'));
  assert.equal(store.statusOf('web-1'), 'passing');
  assert.equal(store.statusOf('web-2'), 'critical');
});

test('worstStatus orders passing < warning < critical', () => {
  assert.equal(worstStatus('passing', 'warning'), 'warning');
  assert.equal(worstStatus('critical', 'warning'), 'critical');
  assert.equal(worstStatus('passing', 'passing'), 'passing');
  assert.equal(worstStatus('warning', 'critical'), 'critical');
});

test('subscribers see each change with its index, and check updates carry the previous status', () => {
  const store = storeWithInstance();
  const changes: StoreChange[] = [];
  const unsubscribe = store.subscribe((c) => changes.push(c));
  store.registerCheck(check('c1', 'web-1', 'm1', 'critical'));
  store.updateCheck('c1', 'passing', 'ok');
  store.registerCheck(check('c1', 'web-1', 'm1', 'warning'));
  store.deregisterService('web-1');
  unsubscribe();
  store.registerNode({ Node: 'm3', Address: 'x' });
  const summary = changes.map((c) => `${c.kind} ${c.op}${c.kind === 'check' ? ` ${c.check.Status} prev=${c.previous ?? '-'}` : ''}`);
  assert.deepEqual(summary, [
    'check set critical prev=-',
    'check set passing prev=critical',
    'check set warning prev=passing',
    'check delete warning prev=-',
    'service delete',
  ]);
  for (let i = 1; i < changes.length; i++) assert.ok(changes[i]!.index > changes[i - 1]!.index);
  assert.equal(changes.at(-1)!.index, store.index() - 1);
});

test('waitForIndex resolves at once when the index is already past, on a later write, and on timeout', async () => {
  const store = storeWithInstance();
  const now = store.index();
  assert.equal(await store.waitForIndex(now - 1, 10_000), now);

  const waiting = store.waitForIndex(now, 10_000);
  setImmediate(() => store.registerNode({ Node: 'late', Address: 'x' }));
  assert.equal(await waiting, now + 1);

  const idle = store.index();
  const timedOut = await store.waitForIndex(idle, 50);
  assert.equal(timedOut, idle);
});

test('waitForIndex ignores idempotent writes and ends on abort', async () => {
  const store = storeWithInstance();
  store.registerCheck(check('c1', 'web-1'));
  const idx = store.index();
  const ac = new AbortController();
  let settled = false;
  const waiting = store.waitForIndex(idx, 60_000, ac.signal).then((v) => {
    settled = true;
    return v;
  });
  store.updateCheck('c1', 'passing', ''); // same status and output: no write
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(settled, false);
  ac.abort();
  assert.equal(await waiting, idx);
});
