// Durability in-process: a reopened directory has identical state and indexes; sessions get a fresh TTL after a
// restart; compaction keeps the log small; a crash at any step of compaction recovers everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listSegments } from '../../src/bus/wal.js';
import { scanFrames } from '../../src/bus/wal-frame.js';
import { b, createFakeClock, makeTempDir, openTestBus, removeDir } from './support.js';
import type { TestBus } from './support.js';

/** Everything a client can observe about the bus data. */
function fingerprint(bus: TestBus): unknown {
  const { kv, sessions, registrations } = bus.data;
  const entries = kv.list('').map((e) => ({ ...e, Value: e.Value.toString('base64') }));
  return {
    entries,
    keys: kv.keys('', '/'),
    missingIndex: kv.indexOfKey('never/was'),
    prefixes: ['', 'app/', 'app/gone', 'gone/', 'locks/', 'nope/'].map((p) => kv.indexOfPrefix(p)),
    sessions: sessions.list(),
    sessionsIndex: sessions.index(),
    registrations: registrations.all(),
    clock: bus.clock.current(),
  };
}

async function populate(bus: TestBus): Promise<void> {
  const { kv, sessions, registrations } = bus.data;
  await kv.set('app/config', b('{"a":1}'), { flags: 7 });
  await kv.set('app/binary', Buffer.from([0, 255, 1, 254]));
  await kv.set('app/empty', Buffer.alloc(0));
  await kv.set('app/gone', b('x'));
  await kv.delete('app/gone');
  await kv.set('gone/a', b('1'));
  await kv.set('gone/b', b('2'));
  await kv.delete('gone/', { recurse: true });
  const keeper = await sessions.create({ Name: 'keeper', TTL: '30s', Behavior: 'delete', LockDelay: '1s' });
  const quitter = await sessions.create({ Name: 'quitter' });
  await kv.set('locks/held', b('h'), { acquire: keeper.ID });
  await kv.set('locks/released', b('r'), { acquire: quitter.ID });
  await sessions.destroy(quitter.ID);
  await kv.txn([
    { Verb: 'set', Key: 'txn/one', Value: b('1') },
    { Verb: 'set', Key: 'txn/two', Value: b('2'), Flags: 2 },
  ]);
  await registrations.put('svc-1', { ID: 'svc-1', Name: 'web', Port: 80, Tags: ['a'] });
  await registrations.put('svc-2', { ID: 'svc-2', Name: 'db' });
  await registrations.put('svc-1', { ID: 'svc-1', Name: 'web', Port: 81 });
  await registrations.delete('svc-2');
}

test('reopening after close gives identical state, indexes, sessions and registrations; writes continue above', async () => {
  const dir = await makeTempDir();
  let bus = await openTestBus(dir);
  try {
    await populate(bus);
    const before = fingerprint(bus);
    await bus.data.close();
    await bus.data.close(); // safe twice
    await assert.rejects(bus.data.kv.set('late', b('x')), /closed/);
    bus = await openTestBus(dir);
    assert.deepEqual(fingerprint(bus), before);
    const index = bus.clock.current();
    await bus.data.kv.set('after', b('reopen'));
    assert.equal(bus.data.kv.get('after')!.ModifyIndex, index + 1);
    // Reopen once more without the closing snapshot being the only source: state still identical.
    const again = fingerprint(bus);
    await bus.data.close();
    bus = await openTestBus(dir);
    assert.deepEqual(fingerprint(bus), again);
  } finally {
    await bus.data.close();
    await removeDir(dir);
  }
});

test('after a restart sessions get a fresh TTL (as after a Consul leader change), then expire', async () => {
  const dir = await makeTempDir();
  const fake = createFakeClock();
  let bus = await openTestBus(dir, { fake });
  try {
    const s = await bus.data.sessions.create({ TTL: '10s', LockDelay: '0s' });
    await bus.data.kv.set('k', b('v'), { acquire: s.ID });
    await bus.data.close();
    fake.advance(3_600_000); // an hour down
    bus = await openTestBus(dir, { fake });
    assert.ok(bus.data.sessions.info(s.ID), 'not expired by the downtime');
    fake.advance(19_999);
    assert.ok(bus.data.sessions.info(s.ID));
    fake.advance(1);
    assert.equal(bus.data.sessions.info(s.ID), undefined);
    assert.equal(bus.data.kv.get('k')!.Session, undefined);
  } finally {
    await bus.data.close();
    await removeDir(dir);
  }
});

test('the log is compacted into a snapshot when it grows past its limit, and nothing is lost', async () => {
  const dir = await makeTempDir();
  let bus = await openTestBus(dir, { walMaxBytes: 4096 });
  try {
    for (let i = 0; i < 300; i++) await bus.data.kv.set(`bulk/${i}`, Buffer.alloc(100, i % 256));
    await bus.data.kv.delete('bulk/7');
    const names = await readdir(dir);
    assert.ok(names.includes('snapshot.json'), `a snapshot was written (${names.join(', ')})`);
    assert.ok((await listSegments(dir)).length <= 2, `old segments removed (${names.join(', ')})`);
    const before = fingerprint(bus);
    await bus.data.close();
    bus = await openTestBus(dir, { walMaxBytes: 4096 });
    assert.deepEqual(fingerprint(bus), before);
    assert.equal(bus.data.kv.list('bulk/').length, 299);
  } finally {
    await bus.data.close();
    await removeDir(dir);
  }
});

test('concurrent writers, transactions and compactions interleave without losing or reordering anything', async () => {
  const dir = await makeTempDir();
  let bus = await openTestBus(dir, { walMaxBytes: 2048 });
  try {
    const { kv } = bus.data;
    const compactions: Promise<void>[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async (_, w) => {
        for (let i = 0; i < 40; i++) {
          if (i % 3 === 0) {
            const r = await kv.txn([
              { Verb: 'set', Key: `cc/${w}/${i}`, Value: b(`${w}:${i}`) },
              { Verb: 'set', Key: `cc/${w}/last`, Value: b(String(i)) },
            ]);
            assert.equal(r.ok, true);
          } else {
            await kv.set(`cc/${w}/${i}`, b(`${w}:${i}`));
          }
          if (i % 10 === 5) compactions.push(bus.data.compact());
          if (i % 7 === 6) await kv.delete(`cc/${w}/${i - 1}`);
        }
      }),
    );
    await Promise.all(compactions);
    const before = fingerprint(bus);
    assert.equal(kv.list('cc/').length, 12 * (40 - 5 + 1));
    await bus.data.close();
    bus = await openTestBus(dir);
    assert.deepEqual(fingerprint(bus), before);
  } finally {
    await bus.data.close();
    await removeDir(dir);
  }
});

test('a crash at any step of compaction recovers every write', async () => {
  const dir = await makeTempDir();
  const dirs: string[] = [];
  const bus = await openTestBus(dir);
  try {
    for (let i = 0; i < 20; i++) await bus.data.kv.set(`c/${i}`, b(`v${i}`));
    const [oldSegment] = await listSegments(dir);
    const oldBytes = await readFile(join(dir, oldSegment!.name));
    await bus.data.compact();
    const [newSegment] = await listSegments(dir);
    assert.equal(newSegment!.startLsn, 21);
    const snapshotAfter20 = await readFile(join(dir, 'snapshot.json'));
    for (let i = 20; i < 25; i++) await bus.data.kv.set(`c/${i}`, b(`v${i}`));
    const newBytes = await readFile(join(dir, newSegment!.name));

    const scenario = async (files: Record<string, Buffer | string>, keys: number): Promise<string[]> => {
      const d = await makeTempDir();
      dirs.push(d);
      for (const [name, content] of Object.entries(files)) await writeFile(join(d, name), content);
      const reopened = await openTestBus(d);
      try {
        assert.deepEqual(
          reopened.data.kv.keys('c/').sort(),
          Array.from({ length: keys }, (_, i) => `c/${i}`).sort(),
        );
        for (let i = 0; i < keys; i++) assert.equal(reopened.data.kv.get(`c/${i}`)!.Value.toString(), `v${i}`);
        return (await readdir(d)).sort();
      } finally {
        await reopened.data.close();
      }
    };
    // Rotated to a new segment, snapshot only half-written.
    await scenario({ [oldSegment!.name]: oldBytes, [newSegment!.name]: Buffer.alloc(0), 'snapshot.json.tmp': '{"format":"machineroom-bus-da' }, 20);
    // Same, with writes already in the new segment.
    await scenario({ [oldSegment!.name]: oldBytes, [newSegment!.name]: newBytes }, 25);
    // Snapshot renamed in place, old segment not yet removed.
    await scenario({ [oldSegment!.name]: oldBytes, [newSegment!.name]: newBytes, 'snapshot.json': snapshotAfter20 }, 25);
    // Old segment removed: the normal state after compaction.
    await scenario({ [newSegment!.name]: newBytes, 'snapshot.json': snapshotAfter20 }, 25);
    // A snapshot that covers writes the log lost (captured in memory before their records were synced): replay
    // skips what the snapshot holds and the next write goes on after it, in the same segment.
    await bus.data.compact();
    const snapshotAfter25 = await readFile(join(dir, 'snapshot.json'));
    const frames = scanFrames(newBytes).frames;
    const d = await makeTempDir();
    dirs.push(d);
    await writeFile(join(d, 'snapshot.json'), snapshotAfter25);
    await writeFile(join(d, newSegment!.name), newBytes.subarray(0, frames[1]!.end));
    const r = await openTestBus(d);
    const copy = await makeTempDir();
    dirs.push(copy);
    try {
      assert.equal(r.data.kv.keys('c/').length, 25);
      assert.equal(r.data.recovery.lastLsn, 25);
      await r.data.kv.set('c/25', b('v25'));
      for (const name of await readdir(d)) await copyFile(join(d, name), join(copy, name));
    } finally {
      await r.data.close();
    }
    const r2 = await openTestBus(copy);
    try {
      assert.equal(r2.data.recovery.replayed, 1);
      assert.equal(r2.data.kv.get('c/25')!.Value.toString(), 'v25');
      assert.equal(r2.data.kv.keys('c/').length, 26);
    } finally {
      await r2.data.close();
    }
  } finally {
    await bus.data.close();
    await removeDir(dir);
    for (const d of dirs) await removeDir(d);
  }
});

test('a snapshot that is not one is refused with a message that says what to do', async () => {
  const dir = await makeTempDir();
  try {
    await writeFile(join(dir, 'snapshot.json'), 'not json');
    await assert.rejects(openTestBus(dir), /snapshot\.json is not a readable bus snapshot .*move it aside/);
  } finally {
    await removeDir(dir);
  }
});
