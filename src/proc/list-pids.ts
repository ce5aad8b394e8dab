// Enumerates live processes: the numeric entries of /proc (thread ids are not listed there, only thread-group leaders).
import { readProcDir } from './read-proc-file.js';

/** Lists the pids currently in /proc in ascending order; empty where /proc is missing (not Linux). */
export function listPids(): number[] {
  const entries = readProcDir('/proc') ?? [];
  const pids: number[] = [];
  for (const name of entries) {
    if (/^[0-9]+$/.test(name)) pids.push(Number(name));
  }
  return pids.sort((a, b) => a - b);
}
