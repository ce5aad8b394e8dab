import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcStat } from '../../src/proc/index.js';
import { descendantsOf, processesInGroup, processesInSession, readProcessStat } from '../../src/proc/index.js';
import { createProcessTracker, readFirstLine, spawnNode, waitFor, waitForExit } from './support.js';

const tracker = createProcessTracker();
after(() => tracker.killAll());

// A detached node (own session and group) that starts: a plain `sleep`, a `setsid sleep` (new session, so it escapes
// the group) and `sh -c 'sleep 30 & wait'` (a great-grandchild of the test). It prints the pids it started.
const FAMILY_SCRIPT = `
const { spawn } = require('node:child_process');
const opts = { stdio: 'ignore' };
const plain = spawn('sleep', ['30'], opts);
const escaped = spawn('setsid', ['sleep', '30'], opts);
const shell = spawn('/bin/sh', ['-c', 'sleep 30 & wait'], opts);
console.log(JSON.stringify({ plain: plain.pid, escaped: escaped.pid, shell: shell.pid }));
setInterval(() => {}, 1 << 30);
`;

interface Family {
  plain: number;
  escaped: number;
  shell: number;
}

async function startFamily(): Promise<{ leader: number; family: Family; shellChild: number; exit: () => Promise<void>; kill: () => void }> {
  const child = spawnNode(tracker, FAMILY_SCRIPT, { detached: true });
  const family = JSON.parse(await readFirstLine(child)) as Family;
  for (const pid of Object.values(family)) tracker.adopt(pid);
  const leader = child.pid as number;
  // setsid(1) does not fork when its caller is not a group leader, so the printed pid is the sleep itself.
  await waitFor('the setsid grandchild to be in its own session', () => {
    const stat = readProcessStat(family.escaped);
    return stat?.comm === 'sleep' && stat.sid === family.escaped;
  });
  const shellChild = await waitFor('the shell to start its sleep', () => descendantsOf(family.shell)[0]);
  tracker.adopt(shellChild);
  return { leader, family, shellChild, exit: () => waitForExit(child), kill: () => child.kill('SIGKILL') };
}

test('descendantsOf, processesInGroup and processesInSession see a real process family', async () => {
  const { leader, family, shellChild } = await startFamily();

  const descendants = descendantsOf(leader);
  for (const pid of [family.plain, family.escaped, family.shell, shellChild]) assert.ok(descendants.includes(pid), `${pid} is a descendant`);
  assert.ok(!descendants.includes(leader), 'a process is not its own descendant');
  assert.deepEqual(descendants, [...descendants].sort((a, b) => a - b));
  assert.ok(descendantsOf(process.pid).includes(shellChild), 'great-grandchildren of the test are found');

  const leaderStat = readProcessStat(leader);
  assert.ok(leaderStat);
  assert.equal(leaderStat.pgid, leader, 'detached: leads its own group');
  assert.equal(leaderStat.sid, leader, 'detached: leads its own session');

  const group = processesInGroup(leader);
  for (const pid of [leader, family.plain, family.shell, shellChild]) assert.ok(group.includes(pid), `${pid} is in the group`);
  assert.ok(!group.includes(family.escaped), 'the setsid grandchild left the group');

  assert.deepEqual(processesInSession(family.escaped), [family.escaped]);
  assert.deepEqual(processesInGroup(family.escaped), [family.escaped]);
  const session = processesInSession(leader);
  assert.ok(session.includes(leader) && session.includes(shellChild) && !session.includes(family.escaped));
});

test('descendants orphaned by their parent are reparented and no longer found (why cgroups exist)', async () => {
  const { leader, family, exit, kill } = await startFamily();
  kill();
  await exit();
  await waitFor('the orphans to be reparented away from the test', () => !descendantsOf(process.pid).includes(family.escaped));
  const stat = readProcessStat(family.escaped);
  assert.ok(stat, 'the setsid grandchild survived its parent');
  assert.notEqual(stat.ppid, leader);
});

test('descendantsOf works on a snapshot and tolerates cycles and self-parenting', () => {
  const stat = (pid: number, ppid: number): ProcStat => ({ pid, ppid, comm: 'x', state: 'S', pgid: pid, sid: pid, startTime: 1 });
  const stats = [stat(1, 0), stat(10, 1), stat(11, 10), stat(12, 11), stat(20, 1), stat(30, 30), stat(40, 41), stat(41, 40)];
  assert.deepEqual(descendantsOf(10, stats), [11, 12]);
  assert.deepEqual(descendantsOf(1, stats), [10, 11, 12, 20]);
  assert.deepEqual(descendantsOf(30, stats), []);
  assert.deepEqual(descendantsOf(40, stats), [41]);
  assert.deepEqual(descendantsOf(999, stats), []);
  assert.deepEqual(processesInGroup(11, stats), [11]);
  assert.deepEqual(processesInSession(5, stats), []);
});
