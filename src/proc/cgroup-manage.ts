// Creates, lists and removes cgroups, so each instance gets a container that catches every process it forks (setsid or not).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { ownCgroupDir } from './cgroup-locate.js';

const IGNORED_CREATE_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'EAGAIN']);
const IGNORED_REMOVE_ERRORS = new Set(['EBUSY', 'ENOTEMPTY', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR']);

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? '';
}

/** Whether `dir` is a cgroup directory (has cgroup.procs), so we never mkdir or rmdir outside cgroupfs. */
export function isCgroupDir(dir: string): boolean {
  return existsSync(join(dir, 'cgroup.procs'));
}

/**
 * Creates (mkdir -p) `relPath` under our own cgroup and returns its absolute directory. Undefined when cgroup2
 * is absent, we may not write there (not root / not delegated), or `relPath` is absolute or escapes with "..".
 */
export function createCgroup(relPath: string): string | undefined {
  const rel = normalize(relPath);
  if (rel === '.' || rel === '' || isAbsolute(rel) || rel.split(sep).includes('..')) return undefined;
  const base = ownCgroupDir();
  if (base === undefined || !isCgroupDir(base)) return undefined;
  const dir = join(base, rel);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    if (IGNORED_CREATE_ERRORS.has(errorCode(err))) return undefined;
    throw err;
  }
  return isCgroupDir(dir) ? dir : undefined;
}

function childCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(dir, entry.name));
  } catch {
    return [];
  }
}

/** The pids in cgroup `dir` and all its child cgroups, ascending; [] when it does not exist or is unreadable. */
export function cgroupPids(dir: string): number[] {
  const pids = new Set<number>();
  const walk = (current: string): void => {
    let text = '';
    try {
      text = readFileSync(join(current, 'cgroup.procs'), 'utf8');
    } catch {
      // removed meanwhile (ENOENT), not permitted, or a threaded cgroup (EOPNOTSUPP): nothing to list here
    }
    for (const line of text.split('\n')) {
      if (/^[0-9]+$/.test(line)) pids.add(Number(line));
    }
    for (const child of childCgroups(current)) walk(child);
  };
  walk(dir);
  return [...pids].sort((a, b) => a - b);
}

/**
 * Removes cgroup `dir`, deepest child cgroups first. True when it no longer exists; false while it still holds
 * processes (EBUSY) or when not permitted. Never throws for those, and never touches a directory that is not a cgroup.
 */
export function removeCgroup(dir: string): boolean {
  if (!existsSync(dir)) return true;
  if (!isCgroupDir(dir)) return false;
  const own = ownCgroupDir();
  if (own !== undefined && isWithin(own, dir)) return false;
  for (const child of childCgroups(dir)) removeCgroup(child);
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') return true;
    if (IGNORED_REMOVE_ERRORS.has(code)) return false;
    throw err;
  }
}

/** Whether `path` is `dir` itself or lies inside it. */
export function isWithin(path: string, dir: string): boolean {
  const p = resolve(path);
  const d = resolve(dir);
  return p === d || p.startsWith(d.endsWith(sep) ? d : d + sep);
}
