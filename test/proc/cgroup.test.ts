import { test, after } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cgroupJoinCommand,
  cgroupPids,
  createCgroup,
  findCgroup2Mount,
  isSameProcess,
  killCgroup,
  ownCgroupDir,
  ownCgroupPath,
  processStartTime,
  readProcessStat,
  removeCgroup,
} from '../../src/proc/index.js';
// Internal pieces, tested directly: the pre-5.14 fallback and the guard that keeps killCgroup off our own cgroup.
import { isCgroupOfCaller, signalCgroupPids } from '../../src/proc/cgroup-kill.js';
import { createProcessTracker, readFirstLine, waitFor, waitForExit } from './support.js';

const tracker = createProcessTracker();
const scratch = mkdtempSync(join(tmpdir(), 'mr-proc-cgroup-'));
const createdCgroups: string[] = [];

after(async () => {
  for (const dir of createdCgroups) {
    if (!existsSync(dir)) continue;
    killCgroup(dir);
    await waitFor(`cgroup ${dir} to empty`, () => cgroupPids(dir).length === 0, 5000).catch(() => undefined);
    removeCgroup(dir);
  }
  await tracker.killAll();
  rmSync(scratch, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;
const inCi = process.env.CI === 'true';

/** Returns the cgroup2 mount when cgroup tests can run; otherwise skips (or, as root in CI, fails). */
function requireCgroup2(t: TestContext): string | undefined {
  const mount = findCgroup2Mount();
  if (!isRoot) {
    t.skip('needs root to create cgroups');
    return undefined;
  }
  if (mount === undefined) {
    if (inCi) assert.fail('CI runs as root and must have a cgroup2 mount (none in /proc/self/mountinfo)');
    t.skip('no cgroup2 mount in /proc/self/mountinfo');
    return undefined;
  }
  return mount;
}

function createTestCgroup(t: TestContext, name: string): string | undefined {
  const dir = createCgroup(`machineroom-test-${process.pid}-${Date.now()}-${name}`);
  if (dir === undefined) {
    if (inCi) assert.fail('as root with a cgroup2 mount, createCgroup must succeed in CI');
    t.skip('createCgroup was not permitted here (read-only or undelegated cgroupfs)');
    return undefined;
  }
  createdCgroups.push(dir);
  return dir;
}

test('cgroupJoinCommand passes the directory as $0 and argv as "$@", never re-parsed by the shell', () => {
  const dir = join(scratch, `dir with spaces 'quotes' $HOME "x"`);
  mkdirSync(dir);
  const tricky = ['a b', '$(echo pwned)', '"; exit 3; "', ''];
  const argv = cgroupJoinCommand(dir, ['/bin/sh', '-c', 'echo $$; printf "[%s]" "$@"', 'inner', ...tricky]);
  assert.deepEqual(argv.slice(0, 4), ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir]);
  const [command, ...args] = argv as [string, ...string[]];
  const out = execFileSync(command, args, { encoding: 'utf8' });
  const [pidLine, rest] = out.split('\n');
  assert.equal(readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim(), pidLine, 'exec keeps the pid that joined');
  assert.equal(rest, tricky.map((a) => `[${a}]`).join(''));
});

test('cgroupJoinCommand does not run the command when joining fails', () => {
  const argv = cgroupJoinCommand(join(scratch, 'missing'), ['/bin/echo', 'ran']);
  const [command, ...args] = argv as [string, ...string[]];
  const result = spawnSync(command, args, { encoding: 'utf8' });
  assert.notEqual(result.status, 0);
  assert.equal(result.stdout, '');
  assert.throws(() => cgroupJoinCommand('/x', []), TypeError);
});

test('cgroup helpers degrade to undefined / [] / false instead of throwing', () => {
  assert.equal(createCgroup('../escape'), undefined);
  assert.equal(createCgroup('a/../../escape'), undefined);
  assert.equal(createCgroup('/absolute'), undefined);
  assert.equal(createCgroup(''), undefined);
  assert.deepEqual(cgroupPids(join(scratch, 'nope')), []);
  assert.equal(killCgroup(join(scratch, 'nope')), false);
  assert.equal(killCgroup(scratch), false, 'not a cgroup');
  assert.equal(removeCgroup(join(scratch, 'nope')), true, 'already gone');
  const plain = join(scratch, 'not-a-cgroup');
  mkdirSync(plain);
  assert.equal(removeCgroup(plain), false, 'never rmdirs outside cgroupfs');
  assert.ok(existsSync(plain));
});

test('locates the cgroup2 mount and our own cgroup', (t) => {
  const mount = findCgroup2Mount();
  const path = ownCgroupPath();
  if (mount === undefined || path === undefined) {
    if (inCi && isRoot) assert.fail('CI runs as root and must have cgroup2');
    t.skip('no cgroup2 on this machine');
    return;
  }
  assert.ok(existsSync(join(mount, 'cgroup.procs')), `${mount} is a cgroup2 root`);
  assert.match(path, /^\//);
  const own = ownCgroupDir();
  assert.ok(own !== undefined && own.startsWith(mount));
  const listed = readFileSync(join(own, 'cgroup.procs'), 'utf8').split('\n');
  assert.ok(listed.includes(String(process.pid)), 'we are listed in our own cgroup');
  assert.equal(isCgroupOfCaller(mount), true, 'the hierarchy root holds the caller');
  assert.equal(isCgroupOfCaller(own), true);
});

test('a process joined via cgroupJoinCommand and its setsid grandchild are contained and killed together', async (t) => {
  if (requireCgroup2(t) === undefined) return;
  const outer = createTestCgroup(t, 'kill');
  if (outer === undefined) return;
  const dir = createCgroup(join(outer.slice(outer.lastIndexOf('/') + 1), 'inner'));
  assert.ok(dir, 'nested cgroups can be created');
  assert.deepEqual(cgroupPids(outer), []);

  // sh joins, execs another sh that starts a setsid'd sleep (its own session: out of reach of kill(-pgid)) and then execs sleep.
  const [command, ...args] = cgroupJoinCommand(dir, ['/bin/sh', '-c', 'setsid sleep 30 & echo $!; exec sleep 30']) as [string, ...string[]];
  const child = tracker.spawn(command, args);
  const grandchild = Number(await readFirstLine(child));
  tracker.adopt(grandchild);
  const pid = child.pid as number;
  const startTimes = [processStartTime(pid), processStartTime(grandchild)];

  await waitFor('both processes in the cgroup', () => {
    const pids = cgroupPids(outer);
    return pids.includes(pid) && pids.includes(grandchild);
  });
  assert.deepEqual(cgroupPids(dir), cgroupPids(outer).filter((p) => p === pid || p === grandchild).sort((a, b) => a - b));
  // The grandchild's pid is known as soon as sh forks it, before setsid(1) has run: wait for the new session.
  await waitFor('the grandchild to escape into its own session', () => readProcessStat(grandchild)?.sid === grandchild);
  assert.equal(removeCgroup(outer), false, 'a populated cgroup is not removed');
  assert.ok(existsSync(dir));

  assert.equal(killCgroup(outer), true);
  await waitFor('the cgroup to empty', () => cgroupPids(outer).length === 0);
  await waitForExit(child);
  assert.equal(child.signalCode, 'SIGKILL');
  await waitFor('the grandchild to be gone', () => {
    const stat = readProcessStat(grandchild);
    return stat === undefined || stat.state === 'Z' || !isSameProcess(grandchild, startTimes[1] ?? -1);
  });

  assert.equal(removeCgroup(outer), true);
  assert.ok(!existsSync(dir) && !existsSync(outer), 'child cgroup removed first, then the cgroup');
});

test('without cgroup.kill, signalling every pid in rounds also empties the cgroup', async (t) => {
  if (requireCgroup2(t) === undefined) return;
  const dir = createTestCgroup(t, 'signal');
  if (dir === undefined) return;
  const [command, ...args] = cgroupJoinCommand(dir, ['/bin/sh', '-c', 'for i in 1 2 3; do setsid sleep 30 & done; echo started; wait']) as [
    string,
    ...string[],
  ];
  const child = tracker.spawn(command, args);
  await readFirstLine(child);
  await waitFor('all four processes in the cgroup', () => cgroupPids(dir).length === 4);
  for (const p of cgroupPids(dir)) tracker.adopt(p);

  assert.equal(isCgroupOfCaller(dir), false);
  assert.equal(signalCgroupPids(dir), true);
  assert.deepEqual(cgroupPids(dir), []);
  await waitForExit(child);
  assert.equal(readFileSync(join(dir, 'cgroup.freeze'), 'utf8').trim(), '0', 'left unfrozen');
  assert.equal(removeCgroup(dir), true);
});
