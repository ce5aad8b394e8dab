// Kills everything in an instance's cgroup at once, including daemonised grandchildren that escaped its process group.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownCgroupDir } from './cgroup-locate.js';
import { cgroupPids, isCgroupDir, isWithin } from './cgroup-manage.js';

const MAX_SIGNAL_ROUNDS = 20;
const ROUND_PAUSE_MS = 5;

function writeControl(path: string, value: string): boolean {
  try {
    writeFileSync(path, value);
    return true;
  } catch {
    return false;
  }
}

function pauseSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Whether killing `dir` would hit the caller: our own cgroup, an ancestor of it (including the hierarchy root,
 * which holds every process on the machine), or any cgroup listing our pid. Conservatively true when our own
 * cgroup cannot be determined.
 */
export function isCgroupOfCaller(dir: string): boolean {
  const own = ownCgroupDir();
  if (own === undefined || isWithin(own, dir)) return true;
  return cgroupPids(dir).includes(process.pid);
}

/**
 * SIGKILLs each pid in `dir` (and child cgroups), re-reading cgroup.procs until it is empty or `rounds` pass;
 * the fallback for kernels before 5.14 without cgroup.kill. Freezes the cgroup meanwhile when it can, so nothing forks
 * between rounds. True when the cgroup ended up empty. Does not check isCgroupOfCaller; killCgroup does.
 */
export function signalCgroupPids(dir: string, rounds: number = MAX_SIGNAL_ROUNDS): boolean {
  const freeze = join(dir, 'cgroup.freeze');
  const frozen = existsSync(freeze) && writeControl(freeze, '1');
  try {
    for (let round = 0; round < rounds; round++) {
      const pids = cgroupPids(dir).filter((pid) => pid !== process.pid);
      if (pids.length === 0) return true;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // ESRCH: already gone; EPERM: not ours to kill. Either way the next round re-reads the list.
        }
      }
      pauseSync(ROUND_PAUSE_MS);
    }
    return cgroupPids(dir).length === 0;
  } finally {
    if (frozen) writeControl(freeze, '0');
  }
}

/**
 * Kills every process in cgroup `dir` and its children: writes "1" to cgroup.kill when present, else SIGKILLs pids
 * in rounds. False when `dir` is not a cgroup, not permitted, or contains the caller (we refuse to kill ourselves or
 * the whole machine; also when our own cgroup is unknown). With cgroup.kill, true means the kill was delivered; poll cgroupPids to see the processes go.
 */
export function killCgroup(dir: string): boolean {
  if (!isCgroupDir(dir) || isCgroupOfCaller(dir)) return false;
  const killFile = join(dir, 'cgroup.kill');
  if (existsSync(killFile) && writeControl(killFile, '1')) return true;
  return signalCgroupPids(dir);
}
