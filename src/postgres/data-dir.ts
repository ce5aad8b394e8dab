// The data directory's surroundings: parents made 0755, the directory itself owned by the server's user with mode 0700
// (postgres insists), ownership changed only inside the project's own state directory.
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { MachineroomError } from '../errors/index.js';
import { blockedAdvice, blockingDirectory } from './path-access.js';
import type { PgUser } from './types.js';

/** Whether `path` is `root` or lies below it. */
export function isInside(path: string, root: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Creates every missing directory down to `dir`, each 0755 whatever the umask. */
export function makeParents(dir: string): void {
  const missing: string[] = [];
  for (let p = resolve(dir); !existsSync(p); p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    try {
      mkdirSync(p, { mode: 0o755 });
      chmodSync(p, 0o755);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Fails early, naming the directory, when `user` cannot reach `dir` (e.g. a project under /root, which is 0700);
 * directories inside `ownedRoot` are ours, so they get o+x instead. */
export function assertReachable(dir: string, user: PgUser, what: string, ownedRoot?: string): void {
  for (;;) {
    const blocked = blockingDirectory(dir, user);
    if (blocked === undefined) return;
    if (ownedRoot === undefined || !isInside(blocked, ownedRoot)) {
      throw new MachineroomError('ERR_FORBIDDEN', blockedAdvice(blocked, user, what), { details: { blocked } });
    }
    chmodSync(blocked, (statSync(blocked).mode & 0o7777) | 0o001);
  }
}

/** Gives a tree to `user` (lchown, so links are not followed out of it). */
export function chownTree(path: string, user: PgUser): void {
  const st = lstatSync(path);
  if (st.uid !== user.uid || st.gid !== user.gid) lchownSync(path, user.uid, user.gid);
  if (st.isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), user);
}

/** Makes an existing data dir usable by its server: owned by `user` (only inside `ownedRoot`) and mode 0700/0750. */
export function fixDataDirOwnership(dataDir: string, ownedRoot: string, user: PgUser | undefined): void {
  const st = statSync(dataDir);
  const inside = isInside(dataDir, ownedRoot);
  const wantUid = user?.uid ?? process.getuid?.();
  if (!user && wantUid !== undefined && wantUid !== 0 && st.uid !== wantUid) {
    throw new MachineroomError(
      'ERR_FORBIDDEN',
      `the data directory ${dataDir} is owned by uid ${st.uid}, but the server would run as you (uid ${wantUid}) and postgres only serves a data directory its own user owns (was it made while machineroom ran as root?); run machineroom as that user again, or take it over with \`sudo chown -R ${wantUid}: ${dataDir}\``,
    );
  }
  if (user && st.uid !== user.uid) {
    if (!inside) {
      throw new MachineroomError(
        'ERR_FORBIDDEN',
        `the data directory ${dataDir} is owned by uid ${st.uid}, not ${user.name} (uid ${user.uid}) that the server runs as, and it lies outside ${ownedRoot}, so machineroom leaves it alone: chown -R ${user.name}: ${dataDir}`,
      );
    }
    chownTree(dataDir, user);
  }
  if ((st.mode & 0o777) !== 0o700 && (st.mode & 0o777) !== 0o750 && (inside || st.uid === wantUid)) chmodSync(dataDir, 0o700);
}

/** Creates an empty directory owned by `user` (when given) with `mode`. */
export function makeOwnedDir(dir: string, mode: number, user: PgUser | undefined): void {
  mkdirSync(dir, { mode });
  chmodSync(dir, mode);
  if (user) chownSync(dir, user.uid, user.gid);
}
