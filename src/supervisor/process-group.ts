// Signals and empties an instance's process group (and its cgroup when we have one), so nothing it started outlives it.
import { cgroupPids, killCgroup, listProcessStats } from '../proc/index.js';

/** What identifies everything an instance started. */
export interface ProcessTree {
  pgid: number;
  cgroup?: string;
}

/** Sends a signal to the whole process group; false when it is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Live processes of a tree: its cgroup's members when it has one, else its process group's. */
export function treePids(tree: ProcessTree): number[] {
  if (tree.cgroup) {
    const pids = cgroupPids(tree.cgroup);
    if (pids.length > 0) return pids;
  }
  return listProcessStats()
    .filter((s) => s.pgid === tree.pgid && s.state !== 'Z')
    .map((s) => s.pid);
}

/** SIGKILLs every process of a tree (group and cgroup). */
export function killTree(tree: ProcessTree): void {
  signalGroup(tree.pgid, 'SIGKILL');
  if (tree.cgroup) killCgroup(tree.cgroup);
}

/** Polls until a tree has no live processes or the deadline passes; true when empty. */
export async function waitTreeEmpty(tree: ProcessTree, deadline: number, pollMs = 50): Promise<boolean> {
  for (;;) {
    if (treePids(tree).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
