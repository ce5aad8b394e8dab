// Finds processes by an environment marker (MR_PROJECT=abc), so a restarted daemon can find instances it started earlier.
import { listPids } from './list-pids.js';
import type { ProcStat } from './process-stat.js';
import { readProcessStat } from './process-stat.js';
import { readProcBytes, splitNulSeparated } from './read-proc-file.js';

/** One process whose environment carries the searched-for variable. */
export interface EnvMatch {
  readonly pid: number;
  readonly value: string;
  /** Its stat at scan time; check `stat.state` ('Z' zombie, 'X' dead) to decide whether it still counts. */
  readonly stat: ProcStat;
}

/**
 * Reads /proc/<pid>/environ: the environment the process was exec'd with (later setenv calls are not visible).
 * Undefined when gone, without user memory (zombies and kernel threads: ESRCH), or not permitted (another user's
 * process, unless root).
 */
export function readEnviron(pid: number): Record<string, string> | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const bytes = readProcBytes(`/proc/${pid}/environ`);
  return bytes === undefined ? undefined : parseEnviron(bytes);
}

function parseEnviron(bytes: Buffer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of splitNulSeparated(bytes)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const key = entry.slice(0, eq);
    if (!(key in env)) env[key] = entry.slice(eq + 1);
  }
  return env;
}

/**
 * Scans every readable process for env var `key` (optionally filtered by `predicate(value)`), in pid order.
 * Zombies have no readable environ and so never match; other states (stopped, traced) are included with their
 * `stat` so callers decide. Processes we may not read (other users, unless root) are silently skipped.
 */
export function findProcessesByEnv(key: string, predicate?: (value: string) => boolean): EnvMatch[] {
  const matches: EnvMatch[] = [];
  // Most processes lack the variable: a byte search rules them out without decoding their whole environment.
  const marker = Buffer.from(`${key}=`);
  for (const pid of listPids()) {
    const bytes = readProcBytes(`/proc/${pid}/environ`);
    if (bytes === undefined || bytes.indexOf(marker) < 0) continue;
    const env = parseEnviron(bytes);
    if (!Object.hasOwn(env, key)) continue;
    const value = env[key] as string;
    if (predicate && !predicate(value)) continue;
    const stat = readProcessStat(pid);
    if (stat === undefined) continue;
    matches.push({ pid, value, stat });
  }
  return matches;
}
