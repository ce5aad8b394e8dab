// Stops whatever a dead daemon left behind: recorded process groups (pid + start time, so a recycled pid is never hit),
// every process carrying the project's MR_PROJECT_ID, and the project's cgroup.
import { cgroupPids, createCgroup, findProcessesByEnv, isSameProcess, killCgroup, removeCgroup } from '../proc/index.js';
import { readInstanceRecords, writeInstanceRecords } from '../state/index.js';
import type { StatePaths } from '../state/index.js';

/** What a sweep found and did. */
export interface SweepResult {
  found: number;
  killed: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function targetsOf(paths: StatePaths, projectId: string, cgroupRel: string | undefined): { groups: Set<number>; pids: Set<number>; cgroup?: string } {
  const groups = new Set<number>();
  const pids = new Set<number>();
  for (const r of readInstanceRecords(paths)) {
    if (isSameProcess(r.pid, r.startTime)) groups.add(r.pgid);
  }
  for (const m of findProcessesByEnv('MR_PROJECT_ID', (v) => v === projectId)) {
    if (m.pid !== process.pid && m.stat?.state !== 'Z') pids.add(m.pid);
  }
  const cg = cgroupRel ? createCgroup(cgroupRel) : undefined;
  if (cg) for (const p of cgroupPids(cg)) pids.add(p);
  return cg ? { groups, pids, cgroup: cg } : { groups, pids };
}

/** SIGTERMs every leftover, waits up to `graceMs`, then SIGKILLs; leaves the instance records empty. */
export async function sweepLeftovers(paths: StatePaths, projectId: string, cgroupRel: string | undefined, graceMs = 3000): Promise<SweepResult> {
  const t = targetsOf(paths, projectId, cgroupRel);
  const found = new Set<number>([...t.groups, ...t.pids]);
  if (found.size === 0) {
    if (t.cgroup) removeCgroup(t.cgroup);
    writeInstanceRecords(paths, []);
    return { found: 0, killed: 0 };
  }
  const signal = (sig: NodeJS.Signals) => {
    for (const g of t.groups) {
      try {
        process.kill(-g, sig);
      } catch {
        /* gone */
      }
    }
    for (const p of t.pids) {
      try {
        process.kill(p, sig);
      } catch {
        /* gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  const remaining = () => [...t.pids].filter(alive).length + [...t.groups].filter((g) => alive(g)).length;
  while (remaining() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  let killed = 0;
  if (remaining() > 0) {
    killed = remaining();
    signal('SIGKILL');
  }
  if (t.cgroup) {
    killCgroup(t.cgroup);
    removeCgroup(t.cgroup);
  }
  writeInstanceRecords(paths, []);
  return { found: found.size, killed };
}
