import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { descendantsOf, findProcessesByEnv, readCmdline, readEnviron, readProcessStat } from '../../src/proc/index.js';
import { IDLE_SCRIPT, createProcessTracker, readFirstLine, spawnNode, waitFor, waitForExit } from './support.js';

const tracker = createProcessTracker();
after(() => tracker.killAll());

const NEVER_A_PID = 2 ** 22 + 1;
const KEY = 'MR_TEST_PROC_PROJECT';

test('readEnviron and findProcessesByEnv find processes by an env marker', async () => {
  const mine = `abc-${randomUUID()}`;
  const other = `other-${randomUUID()}`;
  const a = spawnNode(tracker, IDLE_SCRIPT, { env: { ...process.env, [KEY]: mine, MR_TEST_TRICKY: 'x=y=z' } });
  const b = spawnNode(tracker, IDLE_SCRIPT, { env: { ...process.env, [KEY]: other } });
  await Promise.all([readFirstLine(a), readFirstLine(b)]);

  const env = readEnviron(a.pid as number);
  assert.ok(env);
  assert.equal(env[KEY], mine);
  assert.equal(env.MR_TEST_TRICKY, 'x=y=z', 'only the first "=" separates key and value');
  assert.equal(env.PATH, process.env.PATH);

  const exact = findProcessesByEnv(KEY, (value) => value === mine);
  assert.equal(exact.length, 1);
  const [match] = exact;
  assert.ok(match);
  assert.equal(match.pid, a.pid);
  assert.equal(match.value, mine);
  assert.equal(match.stat.pid, a.pid);
  assert.equal(match.stat.ppid, process.pid);
  assert.match(match.stat.state, /^[RS]$/);

  const all = findProcessesByEnv(KEY).filter((m) => m.pid === a.pid || m.pid === b.pid);
  assert.deepEqual(
    all.map((m) => [m.pid, m.value]),
    [
      [a.pid, mine],
      [b.pid, other],
    ].sort((x, y) => (x[0] as number) - (y[0] as number)),
  );
  assert.equal(findProcessesByEnv(`MR_TEST_ABSENT_${randomUUID().replace(/-/g, '')}`).length, 0);
});

test('readCmdline returns argv exactly, including spaces and empty arguments', async () => {
  const child = spawnNode(tracker, IDLE_SCRIPT, { args: ['arg with spaces', '', 'ünïcode'] });
  await readFirstLine(child);
  assert.deepEqual(readCmdline(child.pid as number), [process.execPath, '-e', IDLE_SCRIPT, 'arg with spaces', '', 'ünïcode']);
  assert.ok((readCmdline(process.pid)?.length ?? 0) > 0);
});

test('readers return undefined for a process that has gone', async () => {
  const child = spawnNode(tracker, IDLE_SCRIPT);
  await readFirstLine(child);
  const pid = child.pid as number;
  child.kill('SIGKILL');
  await waitForExit(child);
  await waitFor('the child to leave /proc', () => readProcessStat(pid) === undefined);
  assert.equal(readEnviron(pid), undefined);
  assert.equal(readCmdline(pid), undefined);
  assert.equal(readEnviron(NEVER_A_PID), undefined);
  assert.equal(readCmdline(NEVER_A_PID), undefined);
  assert.equal(readCmdline(0), undefined);
});

test('a zombie has no environ and an empty cmdline, so it never matches an env search', async () => {
  // sh starts `sleep 0` in the background, then execs a sleep that never reaps it: sleep 0 stays a zombie.
  const marker = `zombie-${randomUUID()}`;
  const parent = tracker.spawn('/bin/sh', ['-c', 'sleep 0 & exec sleep 30'], { env: { ...process.env, [KEY]: marker } });
  const parentPid = parent.pid as number;
  const zombie = await waitFor('a zombie child', () =>
    descendantsOf(parentPid).find((pid) => readProcessStat(pid)?.state === 'Z'),
  );
  assert.equal(readEnviron(zombie), undefined);
  assert.deepEqual(readCmdline(zombie), []);
  await waitFor('sh to exec sleep', () => readProcessStat(parentPid)?.comm === 'sleep');
  const found = findProcessesByEnv(KEY, (v) => v === marker).map((m) => m.pid);
  assert.deepEqual(found, [parentPid]);
});
