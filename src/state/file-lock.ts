// An exclusive lock file holding its owner's pid and start time, so a lock left by a dead process is taken over.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { isSameProcess, processStartTime } from '../proc/index.js';

/** Who holds a lock. */
export interface LockOwner {
  pid: number;
  startTime: number;
}

/** A held lock; release() is safe to call twice. */
export interface HeldLock {
  readonly path: string;
  release(): void;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return typeof o.pid === 'number' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** The live owner of a lock file, if any. */
export function lockOwner(path: string): LockOwner | undefined {
  const owner = readOwner(path);
  return owner && isSameProcess(owner.pid, owner.startTime) ? owner : undefined;
}

/** Tries once to take the lock; returns the live owner instead when someone else holds it. */
export function tryLock(path: string): HeldLock | LockOwner {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      const me: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid) ?? 0 };
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          const owner = readOwner(path);
          if (owner?.pid === process.pid) {
            try {
              unlinkSync(path);
            } catch {
              /* already gone */
            }
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(path);
      if (owner && isSameProcess(owner.pid, owner.startTime)) return owner;
      // A half-written lock (owner undefined) may be one being written right now: only break it on the last attempt.
      if (owner || attempt === 2) {
        try {
          unlinkSync(path);
        } catch {
          /* someone else broke it */
        }
      }
    }
  }
  const owner = readOwner(path);
  return owner ?? { pid: 0, startTime: 0 };
}

/** Whether tryLock succeeded. */
export function isHeld(l: HeldLock | LockOwner): l is HeldLock {
  return 'release' in l;
}

/** Runs `fn` under the lock, waiting (polling) up to `timeoutMs` for it. */
export async function withFileLock<T>(path: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = tryLock(path);
    if (isHeld(l)) {
      try {
        return await fn();
      } finally {
        l.release();
      }
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${path} held by pid ${l.pid}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
