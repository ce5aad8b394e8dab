// Permission arithmetic for the server's user: which directory on a path it cannot enter, from mode bits.
// (ACLs and supplementary groups are not consulted: the dedicated user has neither.)
import { statSync, realpathSync, existsSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, parse, resolve, sep } from 'node:path';
import type { PgUser } from './types.js';

/** Whether `user` has the rwx bits `want` (4 read, 2 write, 1 execute/enter) on a file with these stats. */
export function userMay(st: Stats, user: PgUser, want: number): boolean {
  if (user.uid === 0) return true;
  const shift = st.uid === user.uid ? 6 : st.gid === user.gid ? 3 : 0;
  return ((st.mode >> shift) & want) === want;
}

/** The longest prefix of `path` that exists, resolved through symlinks. */
export function existingPrefix(path: string): string {
  let p = resolve(path);
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return realpathSync(p);
}

/** The first existing directory from `/` down to `path` (itself included) that `user` cannot enter, or undefined. */
export function blockingDirectory(path: string, user: PgUser): string | undefined {
  const real = existingPrefix(path);
  const root = parse(real).root;
  let at = root;
  for (const part of ['', ...real.slice(root.length).split(sep).filter(Boolean)]) {
    at = part ? (at.endsWith(sep) ? at + part : at + sep + part) : at;
    let st: Stats;
    try {
      st = statSync(at);
    } catch {
      return undefined;
    }
    if (st.isDirectory() && !userMay(st, user, 1)) return at;
  }
  return undefined;
}

/** Advice for a directory the server's user cannot enter. */
export function blockedAdvice(dir: string, user: PgUser, what: string): string {
  return `${what}: the PostgreSQL server runs as the user ${user.name} (postgres refuses to run as root), and ${user.name} cannot enter ${dir}; allow it with \`chmod o+x ${dir}\`, or keep the project under a directory other users can enter (e.g. /srv or /work)`;
}
