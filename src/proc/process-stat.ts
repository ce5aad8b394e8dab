// Parses /proc/<pid>/stat, the one place that tells us a process's parent, group, session and start time.
import { listPids } from './list-pids.js';
import { readProcText } from './read-proc-file.js';

/** The fields of /proc/<pid>/stat that the supervisor needs to identify and group processes. */
export interface ProcStat {
  readonly pid: number;
  /** The executable's short name (at most 15 bytes); may contain spaces and parentheses. */
  readonly comm: string;
  /** The kernel's one-letter state: R running, S sleeping, D disk wait, Z zombie, T stopped, t traced, X/x dead, I idle, ... */
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  /** Field 22: clock ticks after boot when the process started; with the pid, identifies a process uniquely. */
  readonly startTime: number;
}

/** Parses the text of /proc/<pid>/stat (split at the last ')' so a comm like "a) (b" parses); undefined if malformed. */
export function parseProcessStat(text: string): ProcStat | undefined {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open <= 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open));
  const comm = text.slice(open + 2, close);
  // After ") " the fields start at field 3 (state), so field N is rest[N - 3].
  const rest = text.slice(close + 2).trim().split(/\s+/);
  if (rest.length < 20) return undefined;
  const state = rest[0] ?? '';
  const ppid = Number(rest[1]);
  const pgid = Number(rest[2]);
  const sid = Number(rest[3]);
  const startTime = Number(rest[19]);
  if (![pid, ppid, pgid, sid, startTime].every(Number.isSafeInteger)) return undefined;
  return { pid, comm, state, ppid, pgid, sid, startTime };
}

/** Reads one process's stat, or undefined when it has exited (or never existed). */
export function readProcessStat(pid: number): ProcStat | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const text = readProcText(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseProcessStat(text);
}

/** The start time (clock ticks after boot) that, with the pid, identifies a process across pid reuse. */
export function processStartTime(pid: number): number | undefined {
  return readProcessStat(pid)?.startTime;
}

/**
 * True iff `pid` is alive and is the same process we recorded (same start time), so a recycled pid is never signalled.
 * A zombie (exited, not yet reaped by its parent or init) counts as dead: it holds no lock, port or machine.
 */
export function isSameProcess(pid: number, startTime: number): boolean {
  const stat = readProcessStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/** Reads the stat of every process in one scan, skipping those that exit mid-scan. */
export function listProcessStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const pid of listPids()) {
    const stat = readProcessStat(pid);
    if (stat) stats.push(stat);
  }
  return stats;
}
