// Snapshots of a stopped cluster: its data directory as a .tar.gz with PG_VERSION at the root (the embedded engine
// ships no pg_dump, and Debian's pg_dump refuses newer servers). Restore extracts beside the data dir and swaps.
import { chmodSync, existsSync, mkdirSync, renameSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MachineroomError } from '../errors/index.js';
import { chownTree, makeParents } from './data-dir.js';
import { checkPostmasterPid } from './postmaster-pid.js';
import type { PgUser } from './types.js';

function assertStopped(dataDir: string, doing: string): void {
  const { livePid } = checkPostmasterPid(dataDir);
  if (livePid !== undefined) {
    throw new MachineroomError('ERR_BAD_REQUEST', `cannot ${doing} ${dataDir} while its server (pid ${livePid}) runs: stop the server first`, { details: { pid: livePid } });
  }
}

/** Writes `file` (.tar.gz, atomically) from a stopped cluster's data dir; returns its size. */
export async function snapshotDataDir(dataDir: string, file: string): Promise<{ bytes: number }> {
  const dir = resolve(dataDir);
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    throw new MachineroomError('ERR_NOT_FOUND', `${dir} holds no PostgreSQL cluster (no PG_VERSION): nothing to snapshot`);
  }
  assertStopped(dir, 'snapshot');
  const target = resolve(file);
  makeParents(dirname(target));
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    // PG_VERSION first: a reader sees at once what the archive is.
    const entries = ['PG_VERSION', ...readdirSync(dir).filter((n) => n !== 'postmaster.pid' && n !== 'PG_VERSION')];
    const { create } = await import('tar'); // loaded on first use: only db snapshot needs it
    await create({ gzip: true, file: tmp, cwd: dir, portable: true, strict: true }, entries);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { bytes: statSync(target).size };
}

/** Replaces a stopped cluster's data dir with a snapshot: extracted beside it, swapped in, the old one removed; owned by `user`. */
export async function restoreDataDir(file: string, dataDir: string, user?: PgUser): Promise<void> {
  const source = resolve(file);
  const dir = resolve(dataDir);
  if (!existsSync(source)) throw new MachineroomError('ERR_NOT_FOUND', `snapshot ${source} does not exist`);
  if (existsSync(dir)) assertStopped(dir, 'restore over');
  const parent = dirname(dir);
  makeParents(parent);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const incoming = join(parent, `.${basename(dir)}.restore-${tag}`);
  const outgoing = join(parent, `.${basename(dir)}.old-${tag}`);
  try {
    mkdirSync(incoming, { mode: 0o700 });
    try {
      const { extract } = await import('tar');
      await extract({ file: source, cwd: incoming, strict: true, preserveOwner: false });
    } catch (err) {
      throw new MachineroomError('ERR_BAD_REQUEST', `${source} is not a readable .tar.gz snapshot: ${(err as Error).message}`, { cause: err });
    }
    // Checked after extracting (one pass over the archive instead of two); the data dir is untouched until the swap.
    if (!existsSync(join(incoming, 'PG_VERSION'))) {
      throw new MachineroomError('ERR_BAD_REQUEST', `${source} is not a PostgreSQL data directory snapshot: it has no PG_VERSION at its root (make snapshots with \`machineroom db snapshot\`)`);
    }
    rmSync(join(incoming, 'postmaster.pid'), { force: true });
    chmodSync(incoming, 0o700);
    if (user) chownTree(incoming, user);
    const hadOld = existsSync(dir);
    if (hadOld) renameSync(dir, outgoing);
    try {
      renameSync(incoming, dir);
    } catch (err) {
      if (hadOld) renameSync(outgoing, dir);
      throw err;
    }
  } finally {
    rmSync(incoming, { recursive: true, force: true });
    rmSync(outgoing, { recursive: true, force: true });
  }
}
