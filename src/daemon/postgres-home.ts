// Where a project's PostgreSQL servers keep their clusters. Normally inside .machineroom/; when machineroom runs as
// root in a directory the unprivileged server user cannot enter (a project under /root, mode 0700), in a root-owned
// directory of machineroom's own instead, so no permission outside .machineroom/ ever changes. A pointer file beside
// the credentials records it, so `down --volumes` and the db verbs find it.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { blockingDirectory } from '../postgres/index.js';
import type { PgUser } from '../postgres/index.js';
import { writeFileAtomic } from '../state/index.js';

/** Machine-wide home of relocated clusters (root only). */
export const RELOCATED_ROOT = '/var/lib/machineroom';
const POINTER = 'pgdata.location';

/** Where one resource's cluster and the engine copies live. */
export interface ServerHome {
  /** The directory the engine layer may own and re-own (engines/ and data/ inside). */
  root: string;
  /** The cluster's data directory. */
  pgdata: string;
  /** Set when relocated: the directory the server user could not enter. */
  blockedAt?: string;
}

/** Decides (and records) where a resource's cluster lives. `resourceDir` is .machineroom/data/postgres/<name>. */
export function serverHomeOf(opts: { stateDir: string; resourceDir: string; name: string; projectId: string; user?: PgUser }): ServerHome {
  const local: ServerHome = { root: opts.stateDir, pgdata: join(opts.resourceDir, 'pgdata') };
  if (!opts.user) return local;
  const blockedAt = blockingDirectory(dirname(opts.stateDir), opts.user);
  if (!blockedAt) return local;
  const root = join(RELOCATED_ROOT, opts.projectId);
  for (const dir of [RELOCATED_ROOT, root]) {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    chmodSync(dir, 0o711); // enter, not list: the server user reaches its own data, nobody browses the others
  }
  const home: ServerHome = { root, pgdata: join(root, 'data', opts.name, 'pgdata'), blockedAt };
  mkdirSync(opts.resourceDir, { recursive: true });
  writeFileAtomic(join(opts.resourceDir, POINTER), JSON.stringify({ root, pgdata: home.pgdata }) + '\n', 0o600);
  return home;
}

/** The relocated homes a project's data directory points at (for `down --volumes`). */
export function relocatedHomes(dataDir: string): string[] {
  const dir = join(dataDir, 'postgres');
  if (!existsSync(dir)) return [];
  const homes = new Set<string>();
  for (const name of readdirSync(dir)) {
    try {
      const { root } = JSON.parse(readFileSync(join(dir, name, POINTER), 'utf8')) as { root?: string };
      // Only ever a directory of machineroom's own.
      if (typeof root === 'string' && dirname(root) === RELOCATED_ROOT) homes.add(root);
    } catch {
      /* not relocated */
    }
  }
  return [...homes];
}

/** Removes the relocated homes of a project (its clusters and engine copies). */
export function removeRelocatedHomes(dataDir: string): string[] {
  const homes = relocatedHomes(dataDir);
  for (const home of homes) rmSync(home, { recursive: true, force: true });
  return homes;
}
