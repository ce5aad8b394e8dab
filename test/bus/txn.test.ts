// Transactions: every KV verb, one index for the whole transaction, all-or-nothing, and Consul's error words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b, makeTempDir, openTestBus, removeDir } from './support.js';
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

test('a transaction applies every verb at one index and returns results for the verbs that have them', () =>
  withBus(async ({ data: { kv, sessions }, clock }) => {
    const s = await sessions.create({});
    await kv.set('t/old', b('old'), { flags: 5 });
    await kv.set('t/gone', b('x'));
    await kv.set('t/tree/a', b('a'));
    const old = kv.get('t/old')!;
    const treeIdx = kv.get('t/tree/a')!.ModifyIndex;
    const result = await kv.txn([
      { Verb: 'set', Key: 't/new', Value: b('new'), Flags: 1 },
      { Verb: 'cas', Key: 't/old', Value: b('old2'), Index: old.ModifyIndex },
      { Verb: 'lock', Key: 't/lock', Value: b('L'), Session: s.ID },
      { Verb: 'check-index', Key: 't/tree/a', Index: kv.get('t/tree/a')!.ModifyIndex },
      { Verb: 'check-session', Key: 't/lock', Session: s.ID },
      { Verb: 'check-not-exists', Key: 't/never' },
      { Verb: 'get', Key: 't/new' },
      { Verb: 'get-or-empty', Key: 't/never' },
      { Verb: 'delete', Key: 't/gone' },
      { Verb: 'get-tree', Key: 't/tree/' },
      { Verb: 'unlock', Key: 't/lock', Value: b('U'), Session: s.ID },
      { Verb: 'delete-cas', Key: 't/old', Index: 999_999 },
    ]);
    // delete-cas with a stale index fails the whole transaction.
    assert.deepEqual(result, { ok: false, errors: [{ OpIndex: 11, What: 'failed to delete key "t/old", index is stale' }] });
    assert.equal(kv.get('t/new'), undefined, 'nothing applied');
    assert.equal(kv.get('t/gone')!.Value.toString(), 'x');

    const index = clock.current() + 1;
    const ok = await kv.txn([
      { Verb: 'set', Key: 't/new', Value: b('new'), Flags: 1 },
      { Verb: 'cas', Key: 't/old', Value: b('old2'), Index: old.ModifyIndex },
      { Verb: 'lock', Key: 't/lock', Value: b('L'), Session: s.ID },
      { Verb: 'check-index', Key: 't/tree/a', Index: kv.get('t/tree/a')!.ModifyIndex },
      { Verb: 'check-session', Key: 't/lock', Session: s.ID },
      { Verb: 'check-not-exists', Key: 't/never' },
      { Verb: 'get', Key: 't/new' },
      { Verb: 'get-or-empty', Key: 't/never' },
      { Verb: 'delete', Key: 't/gone' },
      { Verb: 'get-tree', Key: 't/tree/' },
      { Verb: 'unlock', Key: 't/lock', Value: b('U'), Session: s.ID },
      { Verb: 'delete-tree', Key: 't/tree/' },
    ]);
    assert.equal(ok.ok, true);
    if (!ok.ok) return;
    assert.equal(clock.current(), index, 'one index for the whole transaction');
    const summary = ok.results.map((e) => [e.Key, e.Value.toString(), e.ModifyIndex, e.LockIndex, e.Session ?? '']);
    assert.deepEqual(summary, [
      ['t/new', '', index, 0, ''], // set: value blanked (rendered null)
      ['t/old', '', index, 0, ''], // cas
      ['t/lock', '', index, 1, s.ID], // lock
      ['t/tree/a', '', treeIdx, 0, ''], // check-index
      ['t/lock', '', index, 1, s.ID], // check-session sees the lock taken earlier in the txn
      ['t/new', 'new', index, 0, ''], // get sees the set earlier in the txn
      ['t/never', '', 0, 0, ''], // get-or-empty of a missing key
      ['t/tree/a', 'a', treeIdx, 0, ''], // get-tree keeps values
      ['t/lock', '', index, 1, ''], // unlock
    ]);
    assert.equal(kv.get('t/new')!.Flags, 1);
    assert.equal(kv.get('t/old')!.Value.toString(), 'old2');
    assert.equal(kv.get('t/old')!.Flags, 0);
    assert.equal(kv.get('t/lock')!.Value.toString(), 'U');
    assert.equal(kv.get('t/lock')!.Session, undefined);
    assert.equal(kv.get('t/gone'), undefined);
    assert.equal(kv.get('t/tree/a'), undefined);
    assert.equal(kv.indexOfPrefix('t/tree/'), index);
  }));

test('a failing operation rolls back all, and every failing operation is reported in Consul words', () =>
  withBus(async ({ data: { kv, sessions }, clock }) => {
    const s1 = await sessions.create({});
    const s2 = await sessions.create({});
    await kv.set('k', b('v'));
    await kv.set('held', b('h'), { acquire: s1.ID });
    const snapshot = kv.list('').map((e) => ({ ...e }));
    const index = clock.current();
    const idx = kv.get('k')!.ModifyIndex;
    const result = await kv.txn([
      { Verb: 'set', Key: 'a', Value: b('1') },
      { Verb: 'delete', Key: 'k' },
      { Verb: 'get', Key: 'x' },
      { Verb: 'check-index', Key: 'k', Index: idx },
      { Verb: 'check-index', Key: 'held', Index: 3 },
      { Verb: 'check-session', Key: 'held', Session: s2.ID },
      { Verb: 'check-not-exists', Key: 'held' },
      { Verb: 'cas', Key: 'held', Value: b('x'), Index: 0 },
      { Verb: 'lock', Key: 'held', Session: s2.ID },
      { Verb: 'unlock', Key: 'held', Session: s2.ID },
      { Verb: 'lock', Key: 'z', Session: 'bogus' },
      { Verb: 'lock', Key: 'z' },
      { Verb: 'check-session', Key: 'nope', Session: s2.ID },
      { Verb: 'explode' as 'get', Key: 'q' },
    ]);
    const heldIndex = kv.get('held')!.ModifyIndex;
    assert.deepEqual(result, {
      ok: false,
      errors: [
        { OpIndex: 2, What: 'key "x" doesn\'t exist' },
        { OpIndex: 3, What: 'failed to check index, key "k" doesn\'t exist' },
        { OpIndex: 4, What: `failed index check for key "held", current modify index ${heldIndex} != 3` },
        { OpIndex: 5, What: `failed session check for key "held", current session "${s1.ID}" != "${s2.ID}"` },
        { OpIndex: 6, What: 'key "held" exists' },
        { OpIndex: 7, What: 'failed to set key "held", index is stale' },
        { OpIndex: 8, What: 'failed to lock key "held", lock is already held' },
        { OpIndex: 9, What: 'failed to unlock key "held", lock isn\'t held, or is held by another session' },
        { OpIndex: 10, What: 'invalid session "bogus"' },
        { OpIndex: 11, What: 'missing session' },
        { OpIndex: 12, What: 'failed to check session, key "nope" doesn\'t exist' },
        { OpIndex: 13, What: 'unknown KV verb "explode"' },
      ],
    });
    assert.deepEqual(kv.list(''), snapshot, 'nothing changed');
    assert.equal(clock.current(), index, 'no index taken');
  }));

test('read-only transactions take no index; a txn of only no-op writes takes none either', () =>
  withBus(async ({ data: { kv }, clock }) => {
    await kv.set('r', b('1'));
    const index = clock.current();
    const read = await kv.txn([{ Verb: 'get', Key: 'r' }, { Verb: 'get-tree', Key: '' }, { Verb: 'delete', Key: 'never-was' }]);
    assert.equal(read.ok, true);
    assert.equal(clock.current(), index);
    const same = await kv.txn([{ Verb: 'set', Key: 'r', Value: b('1') }]);
    assert.equal(same.ok && same.results[0]!.ModifyIndex, kv.get('r')!.ModifyIndex);
    assert.equal(clock.current(), index);
  }));

test('set then delete of the same key in one transaction leaves it deleted with a tombstone at the txn index', () =>
  withBus(async ({ data: { kv }, clock }) => {
    await kv.set('p/x', b('1'));
    const r = await kv.txn([
      { Verb: 'set', Key: 'p/x', Value: b('2') },
      { Verb: 'delete', Key: 'p/x' },
      { Verb: 'set', Key: 'p/new', Value: b('n') },
      { Verb: 'delete', Key: 'p/new' },
    ]);
    assert.equal(r.ok, true);
    assert.equal(kv.get('p/x'), undefined);
    assert.equal(kv.get('p/new'), undefined);
    assert.equal(kv.indexOfPrefix('p/x'), clock.current());
  }));
