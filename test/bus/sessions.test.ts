// Sessions and locks: acquire/release, lock-delay, TTL expiry (2×TTL) with release and delete behavior, destroy,
// linked checks, and Consul's errors — on a fake clock, the only thing mocked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isConsulRpcError } from '../../src/bus/index.js';
import { isErrorCode } from '../../src/errors/index.js';
import { b, makeTempDir, openTestBus, removeDir, waitFor } from './support.js';
import type { TestBus } from './support.js';

async function withBus(fn: (bus: TestBus) => Promise<void>): Promise<void> {
  const dir = await makeTempDir();
  const bus = await openTestBus(dir);
  try {
    await fn(bus);
  } finally {
    await bus.data.close();
    await removeDir(dir);
  }
}

async function rejectsWith(p: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(p, (err) => isConsulRpcError(err) && (err as Error).message === message);
}

test('create: Consul defaults, LockDelay in nanoseconds, indexes, info/list/node', () =>
  withBus(async ({ data: { sessions }, clock }) => {
    const s = await sessions.create({});
    assert.match(s.ID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(s.Node, 'agent');
    assert.equal(s.Name, '');
    assert.equal(s.Behavior, 'release');
    assert.equal(s.LockDelay, 15_000_000_000);
    assert.equal(s.TTL, '');
    assert.deepEqual(s.NodeChecks, ['serfHealth']);
    assert.equal(s.ServiceChecks, null);
    assert.equal(s.CreateIndex, clock.current());
    assert.equal(s.ModifyIndex, s.CreateIndex);
    assert.equal(sessions.index(), s.CreateIndex);
    const t = await sessions.create({ Name: 'leader', LockDelay: '1m30s', Behavior: 'delete', TTL: '30s', NodeChecks: [] });
    assert.equal(t.LockDelay, 90e9);
    assert.equal(t.TTL, '30s');
    assert.deepEqual(t.NodeChecks, []);
    assert.deepEqual(sessions.info(t.ID), t);
    assert.deepEqual(sessions.list().map((x) => x.ID), [s.ID, t.ID].sort());
    assert.equal(sessions.node('agent').length, 2);
    assert.deepEqual(sessions.node('elsewhere'), []);
    assert.equal(sessions.info('nope'), undefined);
    // Numbers below 1000 are seconds, others nanoseconds (Consul's fixupLockDelay).
    assert.equal((await sessions.create({ LockDelay: 5 })).LockDelay, 5e9);
    assert.equal((await sessions.create({ LockDelay: 2_000_000 })).LockDelay, 2_000_000);
    await assert.rejects(sessions.create({ LockDelay: 'soon' }), (err) => isErrorCode(err, 'ERR_BAD_REQUEST'));
  }));

test('create refuses what Consul refuses, in its words', () =>
  withBus(async ({ data: { sessions }, store }) => {
    await rejectsWith(sessions.create({ TTL: '3s' }), "Invalid Session TTL '3000000000', must be between [10s=24h0m0s]");
    await rejectsWith(sessions.create({ TTL: '86401s' }), "Invalid Session TTL '86401000000000', must be between [10s=24h0m0s]");
    await rejectsWith(sessions.create({ TTL: 'soon' }), `Session TTL 'soon' invalid: time: invalid duration "soon"`);
    await rejectsWith(sessions.create({ Behavior: 'explode' as 'delete' }), "Invalid Behavior setting 'explode'");
    await rejectsWith(sessions.create({ Node: 'ghost' }), 'Missing node registration');
    await rejectsWith(sessions.create({ NodeChecks: ['nope'] }), "Missing check 'nope' registration");
    store.registerCheck({ Node: 'agent', CheckID: 'disk', Name: 'disk', Status: 'critical', Output: '', ServiceID: '', ServiceName: '' });
    await rejectsWith(sessions.create({ NodeChecks: ['disk'] }), "Check 'disk' is in critical state");
    // The boundaries themselves are fine, and "0s" means no TTL.
    assert.equal((await sessions.create({ TTL: '10s' })).TTL, '10s');
    assert.equal((await sessions.create({ TTL: '24h' })).TTL, '24h');
    assert.equal((await sessions.create({ TTL: '0s' })).TTL, '0s');
    assert.equal(sessions.list().length, 3);
  }));

test('acquire and release: LockIndex, same-session re-acquire, held by another, release rules', () =>
  withBus(async ({ data: { kv, sessions } }) => {
    const s1 = await sessions.create({});
    const s2 = await sessions.create({});
    assert.equal(await kv.set('lock', b('a'), { acquire: s1.ID }), true);
    let e = kv.get('lock')!;
    assert.equal(e.LockIndex, 1);
    assert.equal(e.Session, s1.ID);
    // Re-acquire by the holder: value updated, LockIndex unchanged.
    assert.equal(await kv.set('lock', b('b'), { acquire: s1.ID, flags: 9 }), true);
    e = kv.get('lock')!;
    assert.equal(e.LockIndex, 1);
    assert.equal(e.Value.toString(), 'b');
    assert.equal(e.Flags, 9);
    // Someone else: refused, nothing changes.
    assert.equal(await kv.set('lock', b('c'), { acquire: s2.ID }), false);
    assert.equal(kv.get('lock')!.Value.toString(), 'b');
    assert.equal(await kv.set('lock', b('c'), { release: s2.ID }), false);
    // A plain write goes through (locks are advisory) and keeps the lock.
    assert.equal(await kv.set('lock', b('plain')), true);
    assert.equal(kv.get('lock')!.Session, s1.ID);
    // Release by the holder: Session cleared, LockIndex kept, value updated.
    assert.equal(await kv.set('lock', b('released'), { release: s1.ID }), true);
    e = kv.get('lock')!;
    assert.equal(e.Session, undefined);
    assert.equal(e.LockIndex, 1);
    assert.equal(e.Value.toString(), 'released');
    assert.equal(await kv.set('lock', b('x'), { release: s1.ID }), false);
    assert.equal(await kv.set('missing', b('x'), { release: s1.ID }), false);
    // The next holder bumps LockIndex.
    assert.equal(await kv.set('lock', b('d'), { acquire: s2.ID }), true);
    assert.equal(kv.get('lock')!.LockIndex, 2);
    // Acquiring a new key creates it with LockIndex 1.
    assert.equal(await kv.set('fresh', b(''), { acquire: s2.ID }), true);
    assert.equal(kv.get('fresh')!.LockIndex, 1);
    // Unknown or empty sessions are errors, as Consul's RPC answers them.
    await rejectsWith(kv.set('lock', b('x'), { acquire: 'no-such-session' }), 'invalid session "no-such-session"');
    await rejectsWith(kv.set('lock', b('x'), { acquire: '' }), 'missing session');
  }));

test('destroy releases held locks, keeps LockIndex, and applies the lock-delay to re-acquiring', () =>
  withBus(async ({ data: { kv, sessions }, fake }) => {
    const holder = await sessions.create({ LockDelay: '10ms' });
    const other = await sessions.create({ LockDelay: '0s' });
    await kv.set('svc/leader', b('me'), { acquire: holder.ID });
    await kv.set('svc/other', b('x'));
    const before = kv.get('svc/leader')!;
    assert.equal(await sessions.destroy(holder.ID), true);
    const after = kv.get('svc/leader')!;
    assert.equal(after.Session, undefined);
    assert.equal(after.LockIndex, before.LockIndex);
    assert.equal(after.Value.toString(), 'me');
    assert.ok(after.ModifyIndex > before.ModifyIndex);
    assert.equal(sessions.info(holder.ID), undefined);
    assert.equal(kv.indexOfPrefix('svc/'), after.ModifyIndex);
    assert.equal(sessions.index(), after.ModifyIndex);
    // Within the lock-delay the key cannot be acquired (quietly: false); other keys can; after it, it can.
    assert.equal(await kv.set('svc/leader', b('them'), { acquire: other.ID }), false);
    assert.equal((await kv.txn([{ Verb: 'lock', Key: 'svc/leader', Session: other.ID }])).ok, false);
    assert.equal(await kv.set('svc/other', b('them'), { acquire: other.ID }), true);
    fake.advance(9);
    assert.equal(await kv.set('svc/leader', b('them'), { acquire: other.ID }), false);
    fake.advance(1);
    assert.equal(await kv.set('svc/leader', b('them'), { acquire: other.ID }), true);
    assert.equal(kv.get('svc/leader')!.LockIndex, 2);
    // A released (not invalidated) lock has no lock-delay.
    await kv.set('svc/leader', b('them'), { release: other.ID });
    const third = await sessions.create({});
    assert.equal(await kv.set('svc/leader', b('3'), { acquire: third.ID }), true);
    // Destroying an unknown session is not an error.
    assert.equal(await sessions.destroy('nope'), false);
  }));

test('TTL expiry invalidates after 2×TTL without a renew: release behavior releases the locks', () =>
  withBus(async ({ data: { kv, sessions }, fake }) => {
    const s = await sessions.create({ TTL: '10s', LockDelay: '0s' });
    await kv.set('ttl/lock', b('v'), { acquire: s.ID });
    fake.advance(15_000);
    const renewed = await sessions.renew(s.ID);
    assert.equal(renewed?.ID, s.ID);
    // Renewed at 15s: a fresh 2×TTL from there, so still alive at 15 + 19.999 s.
    fake.advance(19_999);
    assert.ok(sessions.info(s.ID), 'alive within 2×TTL of the renew');
    assert.equal(kv.get('ttl/lock')!.Session, s.ID);
    fake.advance(1);
    assert.equal(sessions.info(s.ID), undefined, 'invalidated at 2×TTL');
    const e = kv.get('ttl/lock')!;
    assert.equal(e.Session, undefined);
    assert.equal(e.LockIndex, 1);
    assert.equal(await sessions.renew(s.ID), undefined);
  }));

test('TTL expiry with delete behavior deletes the held keys (tombstoned) and locks them out for the lock-delay', () =>
  withBus(async ({ data: { kv, sessions }, fake, clock }) => {
    const s = await sessions.create({ TTL: '10s', Behavior: 'delete', LockDelay: '5s' });
    await kv.set('eph/a', b('a'), { acquire: s.ID });
    await kv.set('eph/b', b('b'), { acquire: s.ID });
    await kv.set('eph/kept', b('k'));
    const before = clock.current();
    fake.advance(20_000);
    assert.equal(sessions.info(s.ID), undefined);
    assert.equal(kv.get('eph/a'), undefined);
    assert.equal(kv.get('eph/b'), undefined);
    assert.equal(kv.get('eph/kept')!.Value.toString(), 'k');
    assert.equal(kv.indexOfPrefix('eph/a'), before + 1);
    await waitFor(() => clock.current() === before + 1 && kv.indexOfKey('eph/a') === before + 1, 'the invalidation to commit');
    const again = await sessions.create({ LockDelay: '0s' });
    assert.equal(await kv.set('eph/a', b('new'), { acquire: again.ID }), false);
    fake.advance(5_000);
    assert.equal(await kv.set('eph/a', b('new'), { acquire: again.ID }), true);
  }));

test('a session is invalidated when a linked check turns critical or goes away, or its node is deregistered', () =>
  withBus(async ({ data: { kv, sessions }, store }) => {
    store.registerNode({ Node: 'm1', Address: '127.0.1.1' });
    store.registerCheck({ Node: 'm1', CheckID: 'alive', Name: 'alive', Status: 'passing', Output: '', ServiceID: '', ServiceName: '' });
    store.registerService({ ID: 'web-1', Service: 'web', Tags: [], Address: '127.0.1.1', Port: 80, Meta: {}, Node: 'm1' });
    store.registerCheck({ Node: 'm1', CheckID: 'service:web-1', Name: 'web', Status: 'passing', Output: '', ServiceID: 'web-1', ServiceName: 'web' });
    const byNodeCheck = await sessions.create({ Node: 'm1', NodeChecks: ['alive'], LockDelay: '0s' });
    const byServiceCheck = await sessions.create({ Node: 'm1', NodeChecks: [], ServiceChecks: [{ ID: 'service:web-1' }] });
    const byNode = await sessions.create({ Node: 'm1', NodeChecks: [] });
    const unrelated = await sessions.create({});
    await kv.set('m1/lock', b('x'), { acquire: byNodeCheck.ID });

    store.updateCheck('alive', 'warning', 'slow');
    assert.ok(sessions.info(byNodeCheck.ID), 'warning does not invalidate');
    store.updateCheck('alive', 'critical', 'down');
    await waitFor(() => sessions.info(byNodeCheck.ID) === undefined, 'the node-check session to go');
    assert.equal(kv.get('m1/lock')!.Session, undefined);
    assert.ok(sessions.info(byServiceCheck.ID));

    store.deregisterCheck('service:web-1');
    await waitFor(() => sessions.info(byServiceCheck.ID) === undefined, 'the service-check session to go');
    assert.ok(sessions.info(byNode.ID));

    store.deregisterNode('m1');
    await waitFor(() => sessions.info(byNode.ID) === undefined, 'the node session to go');
    assert.ok(sessions.info(unrelated.ID));
  }));
