// Makes a cluster once (initdb into a directory beside the data dir, then renamed into place, so an interrupted initdb
// never leaves a half-made cluster behind), or checks that an existing one suits the engine.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MachineroomError } from '../errors/index.js';
import { assertReachable, fixDataDirOwnership, makeOwnedDir, makeParents } from './data-dir.js';
import { checkPostmasterPid } from './postmaster-pid.js';
import { runBinary, tailLines } from './run-binary.js';
import type { PgEngine, PgUser } from './types.js';

/** Options for ensureCluster; `name` (the resource) makes messages name the right command. */
export interface EnsureClusterOptions {
  dataDir: string;
  /** The project's .machineroom directory: ownership is changed only inside it. */
  ownedRoot: string;
  superPassword: string;
  user?: PgUser;
  onProgress?: (line: string) => void;
  name?: string;
}

/** What ensureCluster found or did. */
export interface EnsureClusterResult {
  created: boolean;
  /** A server already running on this data dir (postmaster.pid names a live postgres), e.g. left by a crashed daemon. */
  livePid?: number;
}

/** The superuser initdb creates; provision and readiness checks log in as it. */
export const SUPERUSER = 'postgres';

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `.NAME.initdb-PID-*` / `.NAME.pwfile-PID-*` siblings left by a process that died mid-initdb. */
function removeLeftovers(parent: string, base: string): void {
  const re = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:initdb|pwfile)-(\\d+)-`);
  for (const name of readdirSync(parent)) {
    const m = re.exec(name);
    if (m && !isAlive(Number(m[1]))) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function checkExisting(engine: PgEngine, dataDir: string, name: string | undefined): void {
  const text = readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim();
  const major = Number.parseInt(text, 10);
  if (major === engine.major) return;
  const reset = name ? `machineroom db reset ${name}` : 'machineroom db reset NAME';
  throw new MachineroomError(
    'ERR_VERSION_MISMATCH',
    `${dataDir} was made by PostgreSQL ${text}, but the ${engine.kind} engine is PostgreSQL ${engine.version}, which cannot read it; keep the data by running it with a PostgreSQL ${text} engine (engine: system, bin_dir), or discard it with \`${reset}\` (or \`machineroom down --volumes\`)`,
    { details: { dataDir, dataVersion: text, engineVersion: engine.version } },
  );
}

/** Makes the cluster when dataDir has no PG_VERSION, else checks its version; removes a stale postmaster.pid. */
export async function ensureCluster(engine: PgEngine, opts: EnsureClusterOptions): Promise<EnsureClusterResult> {
  const dataDir = resolve(opts.dataDir);
  const parent = dirname(dataDir);
  const user = opts.user;
  const progress = opts.onProgress ?? (() => {});
  makeParents(parent);
  if (user) assertReachable(parent, user, `the data directory ${dataDir}`, opts.ownedRoot);

  if (existsSync(join(dataDir, 'PG_VERSION'))) {
    checkExisting(engine, dataDir, opts.name);
    fixDataDirOwnership(dataDir, opts.ownedRoot, user);
    const pid = checkPostmasterPid(dataDir);
    if (pid.removed !== undefined) progress(`removed a stale postmaster.pid (pid ${pid.removed} is not a running postgres)`);
    return pid.livePid === undefined ? { created: false } : { created: false, livePid: pid.livePid };
  }
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    const reset = opts.name ? `machineroom db reset ${opts.name}` : 'machineroom db reset NAME';
    throw new MachineroomError(
      'ERR_CONFIG_INVALID',
      `${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); move its contents away, or discard it with \`${reset}\``,
    );
  }

  const base = basename(dataDir);
  removeLeftovers(parent, base);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const work = join(parent, `.${base}.initdb-${tag}`);
  const pwfile = join(parent, `.${base}.pwfile-${tag}`);
  const started = Date.now();
  progress(`initdb ${dataDir} (PostgreSQL ${engine.version}, ${engine.kind} engine${user ? `, as ${user.name}` : ''})`);
  try {
    makeOwnedDir(work, 0o700, user);
    writeFileSync(pwfile, opts.superPassword + '\n', { mode: 0o600 });
    if (user) chownSync(pwfile, user.uid, user.gid);
    const args = ['-D', work, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '-N'];
    if (engine.major >= 14) args.push('--no-instructions');
    const r = await runBinary(join(engine.binDir, 'initdb'), args, { env: engine.env, cwd: parent, ...(user ? { user } : {}) });
    if (r.code !== 0) {
      throw new MachineroomError('ERR_INTERNAL', `initdb for ${dataDir} failed (exit ${r.code ?? r.signal}): ${tailLines(r.stderr + '\n' + r.stdout)}`);
    }
    try {
      renameSync(work, dataDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Someone else made the cluster meanwhile: theirs stands.
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(join(dataDir, 'PG_VERSION'))) {
        checkExisting(engine, dataDir, opts.name);
        return { created: false };
      }
      throw err;
    }
  } finally {
    rmSync(pwfile, { force: true });
    rmSync(work, { recursive: true, force: true });
  }
  progress(`initdb done in ${seconds(Date.now() - started)}`);
  return { created: true };
}
