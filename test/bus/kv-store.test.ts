// KV semantics as Consul has them: values and flags, listings and separator roll-up, check-and-set, deletes with
// tombstones and the X-Consul-Index every read answers with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrorCode } from '../../src/errors/index.js';
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

test('set and get: value bytes, flags, Create/ModifyIndex, LockIndex 0, no Session', () =>
  withBus(async ({ data: { kv }, clock }) => {
    const value = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    assert.equal(await kv.set('zip', value, { flags: 42 }), true);
    const first = kv.get('zip')!;
    assert.deepEqual(first.Value, value);
    assert.equal(first.Flags, 42);
    assert.equal(first.CreateIndex, clock.current());
    assert.equal(first.ModifyIndex, clock.current());
    assert.equal(first.LockIndex, 0);
    assert.equal(first.Session, undefined);
    // An update keeps CreateIndex, moves ModifyIndex; flags default to 0 as a PUT without ?flags does.
    assert.equal(await kv.set('zip', b('two')), true);
    const second = kv.get('zip')!;
    assert.equal(second.CreateIndex, first.CreateIndex);
    assert.ok(second.ModifyIndex > first.ModifyIndex);
    assert.equal(second.Flags, 0);
    assert.equal(second.Value.toString(), 'two');
    // The store copies the value: mutating the caller's buffer afterwards changes nothing.
    const mine = b('mine');
    await kv.set('copy', mine);
    mine[0] = 0x4d;
    assert.equal(kv.get('copy')!.Value.toString(), 'mine');
    // Empty values are stored as empty (the API renders them as null).
    await kv.set('empty', Buffer.alloc(0));
    assert.equal(kv.get('empty')!.Value.length, 0);
    assert.equal(kv.get('missing'), undefined);
  }));

test('an idempotent set changes nothing, not even the index', () =>
  withBus(async ({ data: { kv }, clock }) => {
    await kv.set('a', b('1'), { flags: 3 });
    const before = kv.get('a')!;
    const index = clock.current();
    assert.equal(await kv.set('a', b('1'), { flags: 3 }), true);
    assert.equal(clock.current(), index);
    assert.equal(kv.get('a')!.ModifyIndex, before.ModifyIndex);
    await kv.set('a', b('1'), { flags: 4 });
    assert.ok(kv.get('a')!.ModifyIndex > before.ModifyIndex);
  }));

test('flags: the uint64 range is kept exactly up to 2^53 - 1 and anything else is refused with a typed error', () =>
  withBus(async ({ data: { kv } }) => {
    await kv.set('f', b('x'), { flags: Number.MAX_SAFE_INTEGER });
    assert.equal(kv.get('f')!.Flags, Number.MAX_SAFE_INTEGER);
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) {
      await assert.rejects(kv.set('f', b('x'), { flags: bad }), (err) => isErrorCode(err, 'ERR_BAD_REQUEST') && /flags/.test((err as Error).message));
    }
    assert.equal(kv.get('f')!.Flags, Number.MAX_SAFE_INTEGER);
    await assert.rejects(kv.set('f', b('x'), { cas: 0, acquire: 's' }), (err) => isErrorCode(err, 'ERR_BAD_REQUEST') && /Conflicting flags/.test((err as Error).message));
  }));

test('list is sorted by key bytes and keys rolls up at the separator', () =>
  withBus(async ({ data: { kv } }) => {
    for (const k of ['web/foo', 'web/bar', 'web/subdir/a', 'web/subdir/b/c', 'webx', 'api/x', 'web/\u{1F600}', 'web/\uFFFD']) await kv.set(k, b(k));
    assert.deepEqual(
      kv.list('web/').map((e) => e.Key),
      ['web/bar', 'web/foo', 'web/subdir/a', 'web/subdir/b/c', 'web/\uFFFD', 'web/\u{1F600}'],
    );
    assert.deepEqual(kv.keys('web/', '/'), ['web/bar', 'web/foo', 'web/subdir/', 'web/\uFFFD', 'web/\u{1F600}']);
    assert.deepEqual(kv.keys('web', '/'), ['web/', 'webx']);
    assert.deepEqual(kv.keys('', '/'), ['api/', 'web/', 'webx']);
    assert.deepEqual(kv.keys('web/subdir/'), ['web/subdir/a', 'web/subdir/b/c']);
    assert.deepEqual(kv.keys('nope/', '/'), []);
    assert.equal(kv.list('').length, 8);
    assert.deepEqual(kv.list('nope'), []);
  }));

test('check-and-set: 0 creates only; n must match ModifyIndex', () =>
  withBus(async ({ data: { kv } }) => {
    assert.equal(await kv.set('c', b('1'), { cas: 0 }), true);
    assert.equal(await kv.set('c', b('2'), { cas: 0 }), false);
    const idx = kv.get('c')!.ModifyIndex;
    assert.equal(await kv.set('c', b('3'), { cas: idx + 1 }), false);
    assert.equal(await kv.set('missing', b('3'), { cas: 7 }), false);
    assert.equal(kv.get('missing'), undefined);
    assert.equal(await kv.set('c', b('4'), { cas: idx }), true);
    assert.equal(kv.get('c')!.Value.toString(), '4');
    assert.equal(await kv.set('c', b('5'), { cas: idx }), false);
  }));

test('delete: plain, recurse, and cas (0 never deletes; a missing key counts as deleted)', () =>
  withBus(async ({ data: { kv } }) => {
    for (const k of ['d/a', 'd/b', 'd/c/d', 'dx', 'e']) await kv.set(k, b(k));
    assert.equal(await kv.delete('d/a'), true);
    assert.equal(kv.get('d/a'), undefined);
    assert.equal(await kv.delete('d/a'), true);
    assert.equal(await kv.delete('d/', { recurse: true }), true);
    assert.deepEqual(kv.keys(''), ['dx', 'e']);
    const idx = kv.get('e')!.ModifyIndex;
    assert.equal(await kv.delete('e', { cas: 0 }), false);
    assert.equal(await kv.delete('e', { cas: idx + 5 }), false);
    assert.ok(kv.get('e'));
    assert.equal(await kv.delete('e', { cas: idx }), true);
    assert.equal(kv.get('e'), undefined);
    assert.equal(await kv.delete('never', { cas: 3 }), true);
    await assert.rejects(kv.delete('x', { recurse: true, cas: 1 }), (err) => isErrorCode(err, 'ERR_BAD_REQUEST'));
    assert.equal(await kv.delete('', { recurse: true }), true);
    assert.deepEqual(kv.list(''), []);
  }));

test('X-Consul-Index: key reads, missing keys and prefixes include deletions (tombstones), never 0', () =>
  withBus(async ({ data: { kv } }) => {
    assert.equal(kv.indexOfKey('nothing'), 1);
    assert.equal(kv.indexOfPrefix(''), 1);
    assert.equal(kv.indexOfPrefix('x/'), 1);
    await kv.set('foo', b('foo'));
    await kv.set('foo/bar', b('bar'));
    await kv.set('foo/bar/zip', b('zip'));
    const zip = kv.get('foo/bar/zip')!.ModifyIndex;
    await kv.set('foo/bar/baz', b('baz'));
    const baz = kv.get('foo/bar/baz')!.ModifyIndex;
    assert.equal(kv.indexOfKey('foo/bar/zip'), zip);
    assert.equal(kv.indexOfPrefix('foo/bar/zip'), zip);
    assert.equal(kv.indexOfPrefix('foo/'), baz);
    // A delete raises the index of its prefixes and of the (now missing) key.
    await kv.delete('foo/bar/baz');
    const table = kv.indexOfKey('never-existed');
    assert.ok(table > baz);
    assert.equal(kv.indexOfKey('foo/bar/baz'), table);
    assert.equal(kv.indexOfPrefix('foo/bar/baz'), table);
    assert.equal(kv.indexOfPrefix('foo/'), table);
    assert.equal(kv.indexOfPrefix(''), table);
    // An unrelated write moves the table index, but not the prefix that only holds older writes and tombstones.
    await kv.set('other/key', b(''));
    assert.equal(kv.indexOfPrefix('foo/bar/baz'), table);
    assert.equal(kv.indexOfPrefix('foo/bar/zip'), zip);
    assert.equal(kv.indexOfPrefix('unrelated/'), kv.indexOfKey('nope'));
    assert.ok(kv.indexOfKey('nope') > table);
    // A recursive delete leaves a tombstone for every key it removed.
    await kv.delete('foo/', { recurse: true });
    const afterTree = kv.indexOfKey('nope');
    assert.equal(kv.indexOfPrefix('foo/bar/zip'), afterTree);
    assert.equal(kv.indexOfPrefix('foo/'), afterTree);
    assert.equal(kv.indexOfPrefix('foo'), afterTree);
    assert.equal(kv.get('foo')!.Value.toString(), 'foo');
  }));

test('a write is visible at once and wakes blocking readers with its index', () =>
  withBus(async ({ data: { kv }, clock }) => {
    const before = clock.current();
    const woke = clock.waitForIndex(before, 10_000);
    const write = kv.set('visible', b('now'));
    assert.equal(kv.get('visible')!.Value.toString(), 'now', 'visible before the write resolves');
    assert.equal(await woke, before + 1);
    await write;
  }));

test('the record a notified reader was woken for is already in the log file', async () => {
  const dir = await makeTempDir();
  const bus = await openTestBus(dir);
  try {
    const before = bus.clock.current();
    const seen = bus.clock.waitForIndex(before, 10_000).then(async () => {
      const [segment] = (await readdir(dir)).filter((n) => n.startsWith('wal-'));
      return (await readFile(join(dir, segment!))).includes(Buffer.from('"notified-key"'));
    });
    await bus.data.kv.set('notified-key', b('v'));
    assert.equal(await seen, true);
  } finally {
    await bus.data.close();
    await removeDir(dir);
  }
});
