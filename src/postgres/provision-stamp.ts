// What the last successful provisioning of a cluster was given, as one hash: the cluster's identity (pg_control's
// system identifier), each database's name and owner, a hash of the owner's password, and the content of its init
// files and migrations. When the next start would provision the same thing on the same cluster, the daemon skips the
// superuser login and its queries, and lets the owner's own login prove the database usable (falling back to a full
// provisioning when that login fails).
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/index.js';
import type { DatabaseSpec } from './types.js';

const STAMP_FILE = 'provisioned.json';

/** pg_control starts with the cluster's 64-bit system identifier, fixed by initdb: a new cluster has a new one. */
function systemIdentifier(dataDir: string): string | undefined {
  try {
    const bytes = readFileSync(join(dataDir, 'global', 'pg_control'));
    return bytes.length >= 8 ? bytes.readBigUInt64LE(0).toString() : undefined;
  } catch {
    return undefined;
  }
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** The stamp of provisioning `databases` on the cluster in `dataDir`; undefined when a file or the cluster cannot be read. */
export function provisionStamp(dataDir: string, databases: DatabaseSpec[]): string | undefined {
  const cluster = systemIdentifier(dataDir);
  if (cluster === undefined) return undefined;
  try {
    const parts = databases.map((db) => ({
      name: db.name,
      user: db.user,
      password: sha256(`machineroom provision stamp\0${db.password}`),
      init: db.init.map((file) => [file, sha256(readFileSync(file))]),
      migrations: db.migrations
        ? readdirSync(db.migrations)
            .filter((n) => n.endsWith('.sql'))
            .sort()
            .map((n) => [n, sha256(readFileSync(join(db.migrations!, n)))])
        : null,
    }));
    return sha256(JSON.stringify({ cluster, parts }));
  } catch {
    return undefined; // an unreadable file: full provisioning reports it
  }
}

/** The stamp recorded in `dir` (the resource's state directory), if any. */
export function readProvisionStamp(dir: string): string | undefined {
  try {
    const data = JSON.parse(readFileSync(join(dir, STAMP_FILE), 'utf8')) as { stamp?: unknown };
    return typeof data.stamp === 'string' ? data.stamp : undefined;
  } catch {
    return undefined;
  }
}

/** Records a successful provisioning. */
export function writeProvisionStamp(dir: string, stamp: string): void {
  writeFileAtomic(join(dir, STAMP_FILE), JSON.stringify({ stamp }) + '\n', 0o600);
}

/** Forgets it (the data was reset or restored: the next start provisions in full). */
export function clearProvisionStamp(dir: string): void {
  rmSync(join(dir, STAMP_FILE), { force: true });
}
