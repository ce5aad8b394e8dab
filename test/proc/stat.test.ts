import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bootTimeMs,
  clockTicksPerSecond,
  isSameProcess,
  listPids,
  listProcessStats,
  parseProcessStat,
  processStartTime,
  processStartedAtMs,
  readProcessStat,
} from '../../src/proc/index.js';
import { IDLE_SCRIPT, createProcessTracker, readFirstLine, spawnNode, waitFor, waitForExit } from './support.js';

const tracker = createProcessTracker();
const scratch = mkdtempSync(join(tmpdir(), 'mr-proc-stat-'));
after(async () => {
  await tracker.killAll();
  rmSync(scratch, { recursive: true, force: true });
});

// A pid above the kernel's maximum pid_max (2^22), so it can never exist.
const NEVER_A_PID = 2 ** 22 + 1;

test('parseProcessStat splits at the last ")" so a comm with spaces and parentheses parses', () => {
  const comm = 'a) (b c) d';
  const fields = ['S', '77', '88', '99', ...Array.from({ length: 15 }, (_, i) => String(i)), '123456789', '0', '0'];
  const stat = parseProcessStat(`4242 (${comm}) ${fields.join(' ')}\n`);
  assert.deepEqual(stat, { pid: 4242, comm, state: 'S', ppid: 77, pgid: 88, sid: 99, startTime: 123456789 });
  const real = readFileSync('/proc/self/stat', 'utf8');
  assert.equal(parseProcessStat(real)?.pid, process.pid);
  assert.equal(parseProcessStat('garbage'), undefined);
  assert.equal(parseProcessStat('12 (short) S 1 2'), undefined);
});

test('readProcessStat reads this process', () => {
  const stat = readProcessStat(process.pid);
  assert.ok(stat);
  assert.equal(stat.pid, process.pid);
  assert.equal(stat.ppid, process.ppid);
  assert.equal(stat.state, 'R');
  assert.ok(stat.comm.length > 0);
  assert.ok(Number.isSafeInteger(stat.startTime) && stat.startTime > 0);
  assert.equal(processStartTime(process.pid), stat.startTime);
});

test('readProcessStat returns undefined for pids that do not exist', () => {
  assert.equal(readProcessStat(NEVER_A_PID), undefined);
  assert.equal(readProcessStat(0), undefined);
  assert.equal(readProcessStat(-1), undefined);
  assert.equal(readProcessStat(1.5), undefined);
  assert.equal(processStartTime(NEVER_A_PID), undefined);
});

test('a real process whose comm contains ") (" and spaces is parsed correctly', async () => {
  const name = 'a) (b c) d';
  const link = join(scratch, name);
  symlinkSync(process.execPath, link);
  const child = tracker.spawn(link, ['-e', IDLE_SCRIPT]);
  await readFirstLine(child);
  const pid = child.pid as number;
  const stat = await waitFor('comm to change after exec', () => {
    const s = readProcessStat(pid);
    return s?.comm === name ? s : undefined;
  });
  assert.equal(stat.pid, pid);
  assert.equal(stat.ppid, process.pid);
  assert.match(stat.state, /^[RS]$/);
});

test('isSameProcess tells a live process from a wrong start time and from an exited one', async () => {
  const child = spawnNode(tracker, IDLE_SCRIPT);
  await readFirstLine(child);
  const pid = child.pid as number;
  const startTime = processStartTime(pid);
  assert.ok(startTime !== undefined);
  const own = processStartTime(process.pid);
  assert.ok(own !== undefined && startTime >= own, 'child started after us');
  assert.equal(isSameProcess(pid, startTime), true);
  assert.equal(isSameProcess(pid, startTime + 1), false);
  assert.equal(isSameProcess(NEVER_A_PID, startTime), false);
  child.kill('SIGKILL');
  await waitForExit(child);
  await waitFor('the reaped child to leave /proc', () => readProcessStat(pid) === undefined);
  assert.equal(isSameProcess(pid, startTime), false);
});

test('listPids lists numeric /proc entries in order, including ours and a child', async () => {
  const child = spawnNode(tracker, IDLE_SCRIPT);
  await readFirstLine(child);
  const pids = listPids();
  assert.ok(pids.includes(process.pid));
  assert.ok(pids.includes(child.pid as number));
  assert.ok(pids.includes(1));
  assert.deepEqual(pids, [...pids].sort((a, b) => a - b));
  assert.ok(pids.every((p) => Number.isSafeInteger(p) && p > 0));
  const stats = listProcessStats();
  assert.ok(stats.some((s) => s.pid === child.pid && s.ppid === process.pid));
});

test('clock helpers turn start ticks into wall-clock time', async () => {
  const ticks = clockTicksPerSecond();
  assert.equal(ticks, 100, 'USER_HZ is 100 on Linux');
  assert.equal(clockTicksPerSecond(), ticks);
  const boot = bootTimeMs();
  assert.ok(boot !== undefined && boot < Date.now() && boot > Date.UTC(2000, 0, 1));
  const before = Date.now();
  const child = spawnNode(tracker, IDLE_SCRIPT);
  await readFirstLine(child);
  const startedAt = processStartedAtMs(child.pid as number);
  assert.ok(startedAt !== undefined);
  // btime has 1 s resolution and ticks 10 ms: allow 2 s either way.
  assert.ok(startedAt >= before - 2000 && startedAt <= Date.now() + 2000, `started at ${startedAt}, spawned at ${before}`);
  assert.equal(processStartedAtMs(NEVER_A_PID), undefined);
});
