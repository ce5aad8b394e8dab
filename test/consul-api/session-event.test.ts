// Sessions (create/info/list/node/renew/destroy, locks with lock-delay) and user events (fire/list, blocking).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi } from './harness.js';
import type { ApiUnderTest } from './harness.js';
import { waitFor } from '../unit/wait-for.js';

let t: ApiUnderTest;
before(async () => {
  t = await startApi();
});
after(async () => {
  await t.close();
});

const raw = (path: string, init?: RequestInit) => fetch(`${t.base}${path}`, init);
type SessionInfo = { ID: string; Name: string; Node: string; LockDelay: number; Behavior: string; TTL: string; NodeChecks: string[]; CreateIndex: number };

test('create, info, list, node, renew and destroy', async () => {
  const { ID } = (await t.consul.session.create({ name: 'worker', ttl: '15s', lockdelay: '2s' })) as { ID: string };
  assert.match(ID, /^[0-9a-f-]{36}$/);
  const info = (await t.consul.session.info(ID)) as SessionInfo;
  assert.deepEqual([info.ID, info.Name, info.Node, info.LockDelay, info.Behavior, info.TTL, info.NodeChecks], [ID, 'worker', 'node1', 2e9, 'release', '15s', ['serfHealth']]);
  assert.ok(info.CreateIndex > 0);
  assert.ok(((await t.consul.session.list()) as SessionInfo[]).some((s) => s.ID === ID));
  assert.ok(((await t.consul.session.node('node1')) as SessionInfo[]).some((s) => s.ID === ID));
  assert.deepEqual(await t.consul.session.node('nowhere'), []);
  const renewed = (await t.consul.session.renew(ID)) as SessionInfo[];
  assert.equal(renewed[0]!.ID, ID);
  await t.consul.session.destroy(ID);
  assert.equal(await t.consul.session.info(ID), undefined);
  assert.deepEqual(await (await raw(`/v1/session/info/${ID}`)).json(), []);
  const gone = await raw(`/v1/session/renew/${ID}`, { method: 'PUT' });
  assert.equal(gone.status, 404);
  assert.equal(await gone.text(), `Session id '${ID}' not found`);
  // An empty body is fine; a bad TTL is Consul's RPC error (500, which patroni matches on).
  const bare = await raw('/v1/session/create', { method: 'PUT' });
  assert.equal(bare.status, 200);
  const badTtl = await raw('/v1/session/create', { method: 'PUT', body: JSON.stringify({ TTL: '1s' }) });
  assert.equal(badTtl.status, 500);
  assert.match(await badTtl.text(), /^Invalid Session TTL/);
  const badJson = await raw('/v1/session/create', { method: 'PUT', body: '{"TTL":' });
  assert.equal(badJson.status, 400);
  assert.match(await badJson.text(), /^Request decode failed: /);
});

test('a blocking session/info query answers when the session goes', async () => {
  const { ID } = (await t.consul.session.create({ name: 'short' })) as { ID: string };
  const first = await raw(`/v1/session/info/${ID}`);
  const index = Number(first.headers.get('x-consul-index'));
  const waiting = raw(`/v1/session/info/${ID}?index=${index}&wait=5s`);
  await t.consul.session.destroy(ID);
  const res = await waiting;
  assert.ok(Number(res.headers.get('x-consul-index')) > index);
  assert.deepEqual(await res.json(), []);
});

test('a session lock: acquire, contention, release, and the lock-delay after invalidation', async () => {
  const s1 = ((await t.consul.session.create({ name: 'one', lockdelay: '300ms' })) as { ID: string }).ID;
  const s2 = ((await t.consul.session.create({ name: 'two', lockdelay: '300ms' })) as { ID: string }).ID;
  const acquire = async (session: string, value: string) => (await (await raw(`/v1/kv/locks/leader?acquire=${session}`, { method: 'PUT', body: value })).text()) === 'true';

  assert.equal(await acquire(s1, 'one'), true);
  let entry = (await t.consul.kv.get('locks/leader')) as { Session?: string; LockIndex: number; Value: string };
  assert.deepEqual([entry.Session, entry.LockIndex, entry.Value], [s1, 1, 'one']);
  assert.equal(await acquire(s2, 'two'), false, 'a held lock is not taken by another session');
  assert.equal(await acquire(s1, 'one again'), true, 're-acquiring by the holder updates the value');
  entry = (await t.consul.kv.get('locks/leader')) as { Session?: string; LockIndex: number; Value: string };
  assert.deepEqual([entry.LockIndex, entry.Value], [1, 'one again']);

  const release = await raw(`/v1/kv/locks/leader?release=${s1}`, { method: 'PUT', body: 'free' });
  assert.equal(await release.text(), 'true');
  entry = (await t.consul.kv.get('locks/leader')) as { Session?: string; LockIndex: number; Value: string };
  assert.equal(entry.Session, undefined);
  assert.equal(await acquire(s2, 'two'), true, 'a released lock is free at once (no lock-delay on release)');

  // Invalidating the holder releases the lock, and the key stays locked out for the lock-delay.
  await t.consul.session.destroy(s2);
  entry = (await t.consul.kv.get('locks/leader')) as { Session?: string; LockIndex: number; Value: string };
  assert.equal(entry.Session, undefined);
  const s3 = ((await t.consul.session.create({ name: 'three' })) as { ID: string }).ID;
  assert.equal(await acquire(s3, 'three'), false, 'refused during the lock-delay');
  await waitFor('the lock-delay to pass', () => acquire(s3, 'three'), 10_000, 50);
  entry = (await t.consul.kv.get('locks/leader')) as { Session?: string; LockIndex: number; Value: string };
  assert.deepEqual([entry.Session, entry.LockIndex], [s3, 3]);
  const wrongRelease = await raw(`/v1/kv/locks/leader?release=${s1}`, { method: 'PUT', body: 'x' });
  assert.equal(await wrongRelease.text(), 'false');
  const unknown = await raw('/v1/kv/locks/other?acquire=00000000-0000-0000-0000-000000000000', { method: 'PUT', body: 'x' });
  assert.equal(unknown.status, 500);
  assert.match(await unknown.text(), /invalid session/i);
  await t.consul.session.destroy(s1);
  await t.consul.session.destroy(s3);
});

test('a session with behavior delete removes the keys it holds', async () => {
  const s = ((await t.consul.session.create({ name: 'ephemeral', behavior: 'delete', lockdelay: '0s' })) as { ID: string }).ID;
  await raw(`/v1/kv/members/me?acquire=${s}`, { method: 'PUT', body: 'here' });
  assert.ok(await t.consul.kv.get('members/me'));
  await t.consul.session.destroy(s);
  assert.equal(await t.consul.kv.get('members/me'), undefined);
});

test('events: fire stores filters and payload, list filters by name and blocks on the event index', async () => {
  const fired = (await t.consul.event.fire({ name: 'deploy', payload: 'v2', service: 'web', tag: 'canary', node: 'node.*' })) as unknown as Record<string, unknown>;
  for (const key of ['ID', 'Name', 'Payload', 'NodeFilter', 'ServiceFilter', 'TagFilter', 'Version', 'LTime']) assert.ok(key in fired, key);
  assert.deepEqual([fired.Name, fired.NodeFilter, fired.ServiceFilter, fired.TagFilter, fired.Version], ['deploy', 'node.*', 'web', 'canary', 1]);
  const rawFire = await raw('/v1/event/fire/ping', { method: 'PUT' });
  assert.equal(((await rawFire.json()) as { Payload: unknown }).Payload, null);
  const list = (await t.consul.event.list()) as { Name: string; Payload: string }[];
  assert.deepEqual(list.map((e) => e.Name), ['deploy', 'ping']);
  assert.equal(list[0]!.Payload, 'v2');
  assert.deepEqual(((await t.consul.event.list({ name: 'ping' })) as { Name: string }[]).map((e) => e.Name), ['ping']);

  const first = await raw('/v1/event/list');
  const index = Number(first.headers.get('x-consul-index'));
  const waiting = raw(`/v1/event/list?index=${index}&wait=5s`);
  await raw('/v1/event/fire/later', { method: 'PUT', body: 'x' });
  const res = await waiting;
  assert.ok(Number(res.headers.get('x-consul-index')) > index);
  assert.equal(((await res.json()) as { Name: string }[]).at(-1)!.Name, 'later');

  const tagOnly = await raw('/v1/event/fire/x?tag=a', { method: 'PUT' });
  assert.equal(tagOnly.status, 400);
  assert.equal(await tagOnly.text(), 'Cannot provide tag filter without service filter');
  const huge = await raw('/v1/event/fire/x', { method: 'PUT', body: 'x'.repeat(600) });
  assert.equal(huge.status, 413);
  assert.equal((await raw('/v1/event/fire/', { method: 'PUT' })).status, 400);
});
