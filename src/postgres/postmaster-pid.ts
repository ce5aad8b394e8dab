// postmaster.pid: line 1 names the server holding a data dir. A live one is a server left running (e.g. by a crashed
// daemon); a dead one's file is stale and would make the next start refuse (or, after pid reuse, wait on a stranger).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readProcessStat } from '../proc/index.js';

/** Whether `pid` is a running postgres process. */
export function isLivePostgres(pid: number): boolean {
  const st = readProcessStat(pid);
  if (st) return st.comm === 'postgres' && st.state !== 'Z';
  if (process.platform === 'linux') return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid recorded in `<dataDir>/postmaster.pid`, if the file exists and names one. */
export function readPostmasterPid(dataDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.split('\n')[0]?.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * What the server says of itself in line 8 of postmaster.pid (PostgreSQL 10+: "starting", "ready", "stopping",
 * "standby"), as pg_ctl reads it to wait for a start without connecting; 'unreadable' when the file cannot be read
 * by this user, undefined when there is none (yet).
 */
export function readPostmasterStatus(dataDir: string): { pid: number; status: string } | 'unreadable' | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'unreadable';
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]?.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { pid, status: (lines[7] ?? '').trim() };
}

/** The pid of a live server on `dataDir`; a postmaster.pid naming no live postgres is removed (returns `{ removed }`). */
export function checkPostmasterPid(dataDir: string): { livePid?: number; removed?: number } {
  const pid = readPostmasterPid(dataDir);
  if (pid !== undefined && isLivePostgres(pid)) return { livePid: pid };
  const file = join(dataDir, 'postmaster.pid');
  try {
    readFileSync(file);
  } catch {
    return {};
  }
  rmSync(file, { force: true });
  return { removed: pid ?? 0 };
}
