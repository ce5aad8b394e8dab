// Groups processes by parentage, process group and session, so the supervisor can stop an instance and everything it started.
import type { ProcStat } from './process-stat.js';
import { listProcessStats } from './process-stat.js';

/**
 * All descendants of `pid` (children, grandchildren, ...) by ppid, from one scan (or the given `stats` snapshot).
 * A descendant whose parent exited was reparented to init or a subreaper and is no longer found here; use a cgroup for that.
 */
export function descendantsOf(pid: number, stats: readonly ProcStat[] = listProcessStats()): number[] {
  const children = new Map<number, number[]>();
  for (const stat of stats) {
    if (stat.pid === stat.ppid) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(stat.pid);
    else children.set(stat.ppid, [stat.pid]);
  }
  const found = new Set<number>();
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const child of children.get(parent) ?? []) {
      if (child === pid || found.has(child)) continue;
      found.add(child);
      queue.push(child);
    }
  }
  return [...found].sort((a, b) => a - b);
}

/** The pids whose process group is `pgid` (what kill(-pgid) would reach), from one scan or the given snapshot. */
export function processesInGroup(pgid: number, stats: readonly ProcStat[] = listProcessStats()): number[] {
  return stats.filter((s) => s.pgid === pgid).map((s) => s.pid);
}

/** The pids whose session is `sid` (a setsid'd child leaves its parent's session), from one scan or the given snapshot. */
export function processesInSession(sid: number, stats: readonly ProcStat[] = listProcessStats()): number[] {
  return stats.filter((s) => s.sid === sid).map((s) => s.pid);
}
