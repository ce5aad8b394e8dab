// Unit: the log hub persists every source's lines to disk (rotated, bounded) and fans them out live to subscribers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLogHub, matchesTargets } from '../../src/supervisor/index.js';
import type { LogHub, LogLine } from '../../src/supervisor/index.js';
import { waitFor } from './wait-for.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'machineroom-loghub-'));
}

function line(source: string, ts: number, text: string, stream: LogLine['stream'] = 'stdout'): LogLine {
  const service = source === 'machineroom' ? 'machineroom' : source.split('.')[0]!;
  return { ts, source, service, stream, text };
}

/** Runs `fn` with a fresh hub in a fresh dir; the hub is closed and the dir removed even when `fn` fails. */
async function withHub(opts: { maxFileBytes?: number; maxBufferedBytes?: number }, fn: (hub: LogHub, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const hub = createLogHub({ dir, ...opts });
  try {
    await fn(hub, dir);
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A file's text, or '' while the hub has not created it yet (streams open asynchronously). */
function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Writes are asynchronous on disk: poll read() until `count` lines are visible. */
function readAll(hub: LogHub, count: number): Promise<LogLine[]> {
  return waitFor(`${count} lines on disk`, () => {
    const lines = hub.read({});
    return lines.length >= count ? lines : undefined;
  });
}

test('read() merges sources in timestamp order, keeping stream and service', async () => {
  await withHub({}, async (hub) => {
    hub.write(line('web.1', 100, 'w1'));
    hub.write(line('api.1', 150, 'a1', 'stderr'));
    hub.write(line('web.1', 300, 'w3'));
    hub.write(line('api.1', 200, 'a2'));
    hub.write(line('machineroom', 250, 'event', 'event'));
    const lines = await readAll(hub, 5);
    assert.deepEqual(
      lines.map((l) => l.text),
      ['w1', 'a1', 'a2', 'event', 'w3'],
    );
    assert.deepEqual(lines[1], { ts: 150, source: 'api.1', service: 'api', stream: 'stderr', text: 'a1' });
    assert.equal(lines[3]!.stream, 'event');
    for (let i = 1; i < lines.length; i++) assert.ok(lines[i - 1]!.ts <= lines[i]!.ts);
  });
});

test('text with tabs survives the round trip through the file', async () => {
  await withHub({}, async (hub) => {
    hub.write(line('web.1', 1, 'a\tb\tc'));
    const [l] = await readAll(hub, 1);
    assert.equal(l!.text, 'a\tb\tc');
  });
});

test('tail keeps the last N lines by timestamp; tail 0 keeps none', async () => {
  await withHub({}, async (hub) => {
    for (let i = 1; i <= 10; i++) hub.write(line(i % 2 ? 'web.1' : 'web.2', i, `l${i}`));
    await readAll(hub, 10);
    assert.deepEqual(
      hub.read({ tail: 3 }).map((l) => l.text),
      ['l8', 'l9', 'l10'],
    );
    assert.deepEqual(hub.read({ tail: 0 }), []);
    assert.equal(hub.read({ tail: 100 }).length, 10);
  });
});

test('since keeps lines at or after the timestamp, and combines with tail', async () => {
  await withHub({}, async (hub) => {
    for (let i = 1; i <= 10; i++) hub.write(line('web.1', i * 10, `l${i}`));
    await readAll(hub, 10);
    assert.deepEqual(
      hub.read({ since: 80 }).map((l) => l.text),
      ['l8', 'l9', 'l10'],
    );
    assert.deepEqual(
      hub.read({ since: 30, tail: 2 }).map((l) => l.text),
      ['l9', 'l10'],
    );
    assert.deepEqual(hub.read({ since: 1000 }), []);
  });
});

test('targets: "web" matches its instances and its build, "web.1" only itself, never "webapp"', async () => {
  await withHub({}, async (hub) => {
    hub.write(line('web.1', 1, 'web one'));
    hub.write(line('web.2', 2, 'web two'));
    hub.write(line('web.build', 3, 'web build'));
    hub.write(line('webapp.1', 4, 'webapp one'));
    hub.write(line('api.1', 5, 'api one'));
    await readAll(hub, 5);
    const sources = (targets: string[]) => hub.read({ targets, events: false }).map((l) => l.source);
    assert.deepEqual(sources(['web']), ['web.1', 'web.2', 'web.build']);
    assert.deepEqual(sources(['web.1']), ['web.1']);
    assert.deepEqual(sources(['web.1', 'api']), ['web.1', 'api.1']);
    assert.deepEqual(sources(['nope']), []);
    assert.deepEqual(sources([]), ['web.1', 'web.2', 'web.build', 'webapp.1', 'api.1']);
  });
});

test('matchesTargets applies the same rules to single lines', () => {
  assert.equal(matchesTargets(line('web.1', 0, ''), ['web']), true);
  assert.equal(matchesTargets(line('web.build', 0, ''), ['web']), true);
  assert.equal(matchesTargets(line('web.1', 0, ''), ['web.1']), true);
  assert.equal(matchesTargets(line('web.2', 0, ''), ['web.1']), false);
  assert.equal(matchesTargets(line('web.10', 0, ''), ['web.1']), false);
  assert.equal(matchesTargets(line('webapp.1', 0, ''), ['web']), false);
  assert.equal(matchesTargets(line('web.1', 0, ''), undefined), true);
  assert.equal(matchesTargets(line('machineroom', 0, '', 'event'), undefined), true);
  assert.equal(matchesTargets(line('machineroom', 0, '', 'event'), undefined, false), false);
});

test('events toggle: the daemon\'s own lines are included by default and left out with events: false', async () => {
  await withHub({}, async (hub) => {
    hub.write(line('web.1', 1, 'app'));
    hub.write(line('machineroom', 2, 'web.1 started', 'event'));
    await readAll(hub, 2);
    assert.deepEqual(
      hub.read({}).map((l) => l.source),
      ['web.1', 'machineroom'],
    );
    assert.deepEqual(
      hub.read({ events: true }).map((l) => l.source),
      ['web.1', 'machineroom'],
    );
    assert.deepEqual(
      hub.read({ events: false }).map((l) => l.source),
      ['web.1'],
    );
  });
});

test('rotation: past maxFileBytes the file moves to .log.1 and read() returns lines from both, total bounded', async () => {
  const maxFileBytes = 2000;
  await withHub({ maxFileBytes }, async (hub, dir) => {
    const n = 300;
    for (let i = 0; i < n; i++) {
      hub.write(line('web.1', 1000 + i, `line ${String(i).padStart(4, '0')} ${'x'.repeat(30)}`));
      // Let each line reach the disk before the next, as output from a real process would (see the burst test below).
      await waitFor(`line ${i} on disk`, () => hub.read({ since: 1000 + i }).length === 1);
    }
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ['web.1.log', 'web.1.log.1']);
    const rowBytes = Buffer.byteLength(`1000\to\tline 0000 ${'x'.repeat(30)}\n`);
    for (const f of files) assert.ok(statSync(join(dir, f)).size <= maxFileBytes + rowBytes, `${f} is ${statSync(join(dir, f)).size} bytes`);
    const lines = hub.read({});
    assert.ok(lines.length < n, 'old lines were rotated away');
    assert.ok(lines.length > maxFileBytes / rowBytes, `lines from both files (${lines.length})`);
    // Contiguous, ending with the newest line: nothing lost between .log.1 and .log.
    const last = lines.at(-1)!;
    assert.equal(last.ts, 1000 + n - 1);
    for (let i = 1; i < lines.length; i++) assert.equal(lines[i]!.ts, lines[i - 1]!.ts + 1);
    const inOld = readFileSync(join(dir, 'web.1.log.1'), 'utf8').split('\n').filter(Boolean).length;
    const inNew = readFileSync(join(dir, 'web.1.log'), 'utf8').split('\n').filter(Boolean).length;
    assert.equal(inOld + inNew, lines.length);
    assert.ok(inOld > 0 && inNew > 0);
  });
});

test(
  'rotation: a burst written in one tick still keeps each file near maxFileBytes',
  async () => {
    const maxFileBytes = 2000;
    await withHub({ maxFileBytes }, async (hub, dir) => {
      for (let i = 0; i < 1000; i++) hub.write(line('web.1', 1000 + i, `line ${i} ${'x'.repeat(30)}`));
      await hub.close();
      await waitFor('the last line on disk', () => hub.read({ since: 1999 }).length === 1);
      const sizes = Object.fromEntries(readdirSync(dir).map((f) => [f, statSync(join(dir, f)).size]));
      for (const [f, size] of Object.entries(sizes)) assert.ok(size <= maxFileBytes + 100, `${f} is ${size} bytes (cap ${maxFileBytes}): ${JSON.stringify(sizes)}`);
    });
  },
);

test('subscribers get live lines filtered by targets, since and events; unsubscribe stops delivery', async () => {
  await withHub({}, async (hub) => {
    const all: string[] = [];
    const web1: string[] = [];
    const web: string[] = [];
    const noEvents: string[] = [];
    const recent: string[] = [];
    hub.subscribe({}, (l) => all.push(l.text));
    const stopWeb1 = hub.subscribe({ targets: ['web.1'] }, (l) => web1.push(l.text));
    hub.subscribe({ targets: ['web'] }, (l) => web.push(l.text));
    hub.subscribe({ events: false }, (l) => noEvents.push(l.text));
    hub.subscribe({ since: 50 }, (l) => recent.push(l.text));
    hub.write(line('web.1', 10, 'a'));
    hub.write(line('web.build', 20, 'b'));
    hub.write(line('api.1', 60, 'c'));
    hub.write(line('machineroom', 70, 'd', 'event'));
    stopWeb1();
    hub.write(line('web.1', 80, 'e'));
    assert.deepEqual(all, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(web1, ['a']);
    assert.deepEqual(web, ['a', 'b', 'e']);
    assert.deepEqual(noEvents, ['a', 'b', 'c', 'e']);
    assert.deepEqual(recent, ['c', 'd', 'e']);
  });
});

test('close() is safe to call twice and stops live delivery', async () => {
  const dir = tempDir();
  try {
    const hub = createLogHub({ dir });
    const got: string[] = [];
    hub.subscribe({}, (l) => got.push(l.text));
    hub.write(line('web.1', 1, 'before'));
    await hub.close();
    await hub.close();
    assert.deepEqual(got, ['before']);
    assert.equal(readFileSync(join(dir, 'web.1.log'), 'utf8').split('\n').filter(Boolean).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The JS heap plus Buffers, after a full collection. */
function usedBytes(gc: () => void): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

function loadGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const FLOOD = 200_000;
const FLOOD_TEXT = 'y'.repeat(200);

function flood(hub: LogHub): void {
  for (let i = 0; i < FLOOD; i++) hub.write(line('noisy.1', 1_000_000 + i, `${i} ${FLOOD_TEXT}`));
}

test('a flood with a small maxBufferedBytes: write() never throws and memory stays bounded', async () => {
  const gc = loadGc();
  await withHub({ maxBufferedBytes: 64 * 1024 }, async (hub) => {
    const before = usedBytes(gc);
    assert.doesNotThrow(() => flood(hub));
    const grown = usedBytes(gc) - before;
    const offered = FLOOD * (FLOOD_TEXT.length + 10);
    // ~42 MB offered in one tick; a hub that buffered it all would hold all of it.
    assert.ok(grown < offered / 4, `memory grew by ${(grown / 1e6).toFixed(1)} MB for ${(offered / 1e6).toFixed(1)} MB offered`);
  });
});

test('a flood with a small maxBufferedBytes: once output resumes after the disk catches up, the drop is recorded', async () => {
  await withHub({ maxBufferedBytes: 64 * 1024 }, async (hub, dir) => {
    flood(hub);
    let i = 0;
    const text = await waitFor('a dropped-lines marker', () => {
      hub.write(line('noisy.1', 2_000_000 + i++, 'after the flood'));
      const t = readText(join(dir, 'noisy.1.log'));
      return /\[machineroom\] \d+ lines dropped/.test(t) ? t : undefined;
    });
    const rows = text.split('\n').filter(Boolean);
    const marker = rows.find((r) => r.includes('lines dropped'))!;
    const dropped = Number(/\] (\d+) lines dropped/.exec(marker)![1]);
    const kept = rows.filter((r) => r.includes(FLOOD_TEXT)).length;
    assert.ok(dropped > 0);
    assert.ok(kept + dropped <= FLOOD + i, `${kept} kept + ${dropped} dropped`);
    assert.equal(marker.split('\t')[1], 'v', 'the marker is an event line');
  });
});

test(
  'a flood with a small maxBufferedBytes: after close() the file holds every line or a dropped-lines marker',
  async () => {
    const dir = tempDir();
    try {
      const hub = createLogHub({ dir, maxBufferedBytes: 64 * 1024 });
      try {
        flood(hub);
      } finally {
        await hub.close();
      }
      const rows = readFileSync(join(dir, 'noisy.1.log'), 'utf8').split('\n').filter(Boolean);
      const kept = rows.filter((r) => r.includes(FLOOD_TEXT)).length;
      const markers = rows.filter((r) => /\[machineroom\] \d+ lines dropped/.test(r));
      if (kept === FLOOD) return; // everything made it: also honest
      assert.ok(markers.length > 0, `only ${kept} of ${FLOOD} lines in the file and no "[machineroom] N lines dropped" marker`);
      const dropped = markers.reduce((n, m) => n + Number(/\] (\d+) lines dropped/.exec(m)![1]), 0);
      assert.equal(kept + dropped, FLOOD);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
