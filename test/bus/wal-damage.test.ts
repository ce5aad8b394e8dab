// A damaged log recovers exactly the complete records before the damage and nothing after: cut at every byte
// offset (framing) and at many offsets through the whole bus data, and with corrupted bytes in the tail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, crc32Portable } from '../../src/bus/crc32.js';
import { encodeFrame, scanFrames } from '../../src/bus/wal-frame.js';
import { listSegments, segmentName } from '../../src/bus/wal.js';
import { b, makeTempDir, openTestBus, removeDir } from './support.js';

/** A deterministic pseudo-random sequence, so a failure names offsets that reproduce. */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

test('crc32 matches the IEEE check value, natively and in JavaScript, and continues from an initial value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
  for (let i = 0; i < 50; i++) {
    const data = randomBytes(i * 13);
    const split = Math.floor(data.length / 3);
    assert.equal(crc32Portable(data), crc32(data));
    assert.equal(crc32(data.subarray(split), crc32(data.subarray(0, split))), crc32(data));
    assert.equal(crc32Portable(data.subarray(split), crc32Portable(data.subarray(0, split))), crc32(data));
  }
});

test('framing: a cut at every byte offset keeps exactly the records that end before it', () => {
  const payloads = Array.from({ length: 12 }, (_, i) => randomBytes(1 + ((i * 37) % 90)));
  const frames = payloads.map(encodeFrame);
  const log = Buffer.concat(frames);
  const ends: number[] = [];
  frames.reduce((off, f) => (ends.push(off + f.length), off + f.length), 0);
  for (let cut = 0; cut <= log.length; cut++) {
    const scan = scanFrames(log.subarray(0, cut));
    const complete = ends.filter((e) => e <= cut).length;
    assert.equal(scan.frames.length, complete, `cut at ${cut}`);
    scan.frames.forEach((f, i) => assert.deepEqual(f.payload, payloads[i]));
    assert.equal(scan.validLength, complete === 0 ? 0 : ends[complete - 1]);
    assert.equal(scan.damage === undefined, cut === scan.validLength, `damage reported iff the cut is inside a record (cut ${cut})`);
  }
  // A zero-filled tail (a file extended but never written) is damage, not empty records.
  assert.equal(scanFrames(Buffer.concat([log, Buffer.alloc(64)])).frames.length, frames.length);
  assert.equal(scanFrames(Buffer.concat([log, Buffer.alloc(64)])).damage?.reason, 'bad length');
});

test('framing: any single corrupted byte of a record stops the scan at that record', () => {
  const payloads = Array.from({ length: 6 }, (_, i) => randomBytes(20 + i));
  const frames = payloads.map(encodeFrame);
  const log = Buffer.concat(frames);
  let start = 0;
  for (let r = 0; r < frames.length; r++) {
    for (let at = start; at < start + frames[r]!.length; at++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bad = Buffer.from(log);
        bad[at]! ^= flip;
        const scan = scanFrames(bad);
        assert.equal(scan.frames.length, r, `record ${r} byte ${at - start} ^ ${flip}`);
        assert.equal(scan.validLength, start);
        assert.ok(scan.damage);
      }
    }
    start += frames[r]!.length;
  }
});

/** Writes `count` puts to fresh bus data and returns the log segment's bytes and the key/value of each record. */
async function buildLog(count: number): Promise<{ bytes: Buffer; name: string; written: { key: string; value: Buffer }[] }> {
  const dir = await makeTempDir();
  const bus = await openTestBus(dir);
  try {
    const written: { key: string; value: Buffer }[] = [];
    for (let i = 0; i < count; i++) {
      const key = `cut/${String(i).padStart(3, '0')}`;
      const value = randomBytes((i * 53) % 300);
      await bus.data.kv.set(key, value);
      written.push({ key, value });
    }
    const [segment] = await listSegments(dir);
    return { bytes: await readFile(join(dir, segment!.name)), name: segment!.name, written };
  } finally {
    await bus.data.close();
    await removeDir(dir);
  }
}

test('bus data with its log cut at many offsets recovers exactly the complete records, and appends after them', async () => {
  const { bytes, name, written } = await buildLog(40);
  const ends = scanFrames(bytes).frames.map((f) => f.end);
  assert.equal(ends.length, written.length);
  const random = seeded(577);
  const offsets = new Set<number>([0, 1, 7, 8, bytes.length, bytes.length - 1]);
  for (const e of ends) for (const d of [-1, 0, 1]) if (e + d >= 0 && e + d <= bytes.length) offsets.add(e + d);
  while (offsets.size < 220) offsets.add(Math.floor(random() * (bytes.length + 1)));
  const dirs: string[] = [];
  try {
    let n = 0;
    for (const cut of [...offsets].sort((a, c) => a - c)) {
      const dir = await makeTempDir();
      dirs.push(dir);
      await writeFile(join(dir, name), bytes.subarray(0, cut));
      const complete = ends.filter((e) => e <= cut).length;
      const boundary = complete === 0 ? 0 : ends[complete - 1]!;
      const bus = await openTestBus(dir);
      const copy = await makeTempDir();
      dirs.push(copy);
      try {
        const where = `log cut at byte ${cut} of ${bytes.length}`;
        assert.deepEqual(bus.data.kv.keys(''), written.slice(0, complete).map((w) => w.key), where);
        for (const w of written.slice(0, complete)) assert.deepEqual(bus.data.kv.get(w.key)!.Value, w.value, where);
        // The agent node took index 2; each put took the next.
        assert.equal(bus.data.kv.indexOfKey('missing'), complete === 0 ? 1 : complete + 2, where);
        assert.equal(bus.data.recovery.damage === undefined, cut === boundary, where);
        assert.equal((await stat(join(dir, name))).size, boundary, `${where}: truncated to the last complete record`);
        if (n++ % 8 === 0) {
          // A write after recovery lands right after the last complete record: reading the log alone finds it.
          await bus.data.kv.set('after/crash', b(`cut ${cut}`));
          for (const f of await readdir(dir)) if (f.startsWith('wal-')) await copyFile(join(dir, f), join(copy, f));
        }
      } finally {
        await bus.data.close();
      }
      if ((await readdir(copy)).length > 0) {
        const again = await openTestBus(copy);
        try {
          assert.equal(again.data.recovery.damage, undefined);
          assert.equal(again.data.kv.get('after/crash')!.Value.toString(), `cut ${cut}`);
          assert.equal(again.data.kv.keys('cut/').length, complete);
        } finally {
          await again.data.close();
        }
      }
    }
  } finally {
    for (const d of dirs) await removeDir(d);
  }
});

test('a corrupted byte in the tail recovers the records before it and nothing after, even intact ones', async () => {
  const { bytes, name, written } = await buildLog(30);
  const frames = scanFrames(bytes).frames;
  const random = seeded(1623);
  const dirs: string[] = [];
  try {
    for (let trial = 0; trial < 40; trial++) {
      const r = 15 + Math.floor(random() * 15);
      const frame = frames[r]!;
      const at = frame.offset + Math.floor(random() * (frame.end - frame.offset));
      const bad = Buffer.from(bytes);
      bad[at]! ^= 1 + Math.floor(random() * 255);
      const dir = await makeTempDir();
      dirs.push(dir);
      await writeFile(join(dir, name), bad);
      const bus = await openTestBus(dir);
      try {
        const where = `record ${r} corrupted at byte ${at}`;
        assert.deepEqual(bus.data.kv.keys(''), written.slice(0, r).map((w) => w.key), where);
        for (const w of written.slice(0, r)) assert.deepEqual(bus.data.kv.get(w.key)!.Value, w.value, where);
        assert.equal(bus.data.recovery.damage?.offset, frame.offset, where);
        assert.equal(bus.data.recovery.lastLsn, r, where);
      } finally {
        await bus.data.close();
      }
    }
  } finally {
    for (const d of dirs) await removeDir(d);
  }
});

test('damage in an older segment drops the later segments too (set aside as .damaged)', async () => {
  const { bytes, written } = await buildLog(20);
  const frames = scanFrames(bytes).frames;
  const dir = await makeTempDir();
  try {
    // Segment one holds records 1..12 (record 9 corrupted), segment two records 13..20.
    const first = Buffer.from(bytes.subarray(0, frames[11]!.end));
    first[frames[8]!.offset + 10]! ^= 0x40;
    await writeFile(join(dir, segmentName(1)), first);
    await writeFile(join(dir, segmentName(13)), bytes.subarray(frames[12]!.offset));
    const bus = await openTestBus(dir);
    try {
      assert.deepEqual(bus.data.kv.keys(''), written.slice(0, 8).map((w) => w.key));
      assert.deepEqual(bus.data.recovery.damage?.setAside, [segmentName(13)]);
      assert.ok((await readdir(dir)).includes(`${segmentName(13)}.damaged`));
    } finally {
      await bus.data.close();
    }
  } finally {
    await removeDir(dir);
  }
});
