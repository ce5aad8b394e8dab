// Provisioning as the superuser: roles with the credentials-file passwords, databases owned by them, init files once,
// then pending migrations as the owner.
import { MachineroomError } from '../errors/index.js';
import { closeClient, connectClient, describePgError } from './connect.js';
import type { PgClient } from './connect.js';
import { applyMigrations } from './migrations.js';
import { quoteIdent, quoteLiteral } from './quote.js';
import { canHashLocally, scramVerifier, verifierMatches } from './scram-verifier.js';
import { readSqlFile, sqlFileError } from './sql-file.js';
import type { DatabaseSpec, PgConn, ProvisionResult } from './types.js';

const CONNECT_TIMEOUT_MS = 10_000;

async function connectAs(conn: PgConn, what: string): Promise<PgClient> {
  try {
    return await connectClient(conn, { connectTimeoutMs: CONNECT_TIMEOUT_MS });
  } catch (err) {
    throw new MachineroomError('ERR_UNHEALTHY', `${what}: cannot connect to postgres at ${conn.host}:${conn.port} as ${conn.user} (database ${conn.database}): ${describePgError(err)}`, { cause: err });
  }
}

/** The distinct roles of `databases`, refusing one role with two passwords and the superuser itself. */
function rolesOf(superuser: string, databases: DatabaseSpec[]): Map<string, string> {
  const roles = new Map<string, string>();
  for (const db of databases) {
    if (db.user === superuser) {
      throw new MachineroomError('ERR_CONFIG_INVALID', `database ${db.name}: user "${db.user}" is the cluster's superuser, whose password machineroom manages; choose another role name`);
    }
    const seen = roles.get(db.user);
    if (seen !== undefined && seen !== db.password) {
      throw new MachineroomError('ERR_CONFIG_INVALID', `database ${db.name}: role "${db.user}" owns another database with a different password; give both the same password, or each its own role`);
    }
    roles.set(db.user, db.password);
  }
  return roles;
}

/** Creates the role, or brings its LOGIN and password in line; returns what changed. */
async function ensureRole(admin: PgClient, role: string, password: string): Promise<'created' | 'updated' | 'unchanged'> {
  const found = await admin.query<{ rolcanlogin: boolean; rolpassword: string | null }>('select rolcanlogin, rolpassword from pg_authid where rolname = $1', [role]);
  const row = found.rows[0];
  if (row && row.rolcanlogin && verifierMatches(row.rolpassword, password)) return 'unchanged';
  const secret = quoteLiteral(canHashLocally(password) ? scramVerifier(password) : password);
  if (!row) {
    try {
      await admin.query(`create role ${quoteIdent(role)} login password ${secret}`);
      return 'created';
    } catch (err) {
      // 42710: made by a concurrent provisioner; fall through to ALTER.
      if ((err as { code?: string }).code !== '42710') throw err;
    }
  }
  await admin.query(`alter role ${quoteIdent(role)} with login password ${secret}`);
  return 'updated';
}

/** Creates the database owned by its role when missing; returns whether it did. */
async function ensureDatabase(admin: PgClient, db: DatabaseSpec): Promise<boolean> {
  const found = await admin.query('select 1 from pg_database where datname = $1', [db.name]);
  if (found.rowCount) return false;
  try {
    await admin.query(`create database ${quoteIdent(db.name)} owner ${quoteIdent(db.user)}`);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '42P04') return false; // made by a concurrent provisioner
    throw err;
  }
}

async function runInitFiles(owner: PgClient, db: DatabaseSpec, progress: (line: string) => void): Promise<void> {
  for (const file of db.init) {
    const text = readSqlFile(db.name, 'init', file);
    const started = Date.now();
    try {
      await owner.query(text);
    } catch (err) {
      throw sqlFileError(db.name, 'init', file, text, err);
    }
    progress(`${db.name}: init ${file} (${Date.now() - started} ms)`);
  }
}

/**
 * Creates/updates roles, creates missing databases (running their init files once), applies pending migrations.
 * `opts.admin`: a client already connected as `superuser` (each login costs a SCRAM exchange), left open.
 */
export async function provision(superuser: PgConn, databases: DatabaseSpec[], onProgress?: (line: string) => void, opts: { admin?: PgClient } = {}): Promise<ProvisionResult[]> {
  const progress = onProgress ?? (() => {});
  const roles = rolesOf(superuser.user, databases);
  const results: ProvisionResult[] = [];
  const admin = opts.admin ?? (await connectAs(superuser, 'provision'));
  try {
    for (const [role, password] of roles) {
      let outcome;
      try {
        outcome = await ensureRole(admin, role, password);
      } catch (err) {
        throw new MachineroomError('ERR_INTERNAL', `role ${role}: ${describePgError(err)}`, { cause: err });
      }
      if (outcome !== 'unchanged') progress(`role ${role} ${outcome === 'created' ? 'created' : 'password and login set'}`);
    }
    for (const db of databases) {
      let created: boolean;
      try {
        created = await ensureDatabase(admin, db);
      } catch (err) {
        throw new MachineroomError('ERR_INTERNAL', `database ${db.name}: cannot create it: ${describePgError(err)}`, { cause: err });
      }
      if (created) progress(`database ${db.name} created (owner ${db.user})`);
      // Nothing to run as the owner (an existing database, no migrations): no connection (each costs a SCRAM login).
      if (!(created && db.init.length > 0) && !db.migrations) {
        results.push({ name: db.name, created, applied: [] });
        continue;
      }
      const owner = await connectAs({ ...superuser, user: db.user, password: db.password, database: db.name }, `database ${db.name}`);
      try {
        if (created && db.init.length > 0) {
          try {
            await runInitFiles(owner, db, progress);
          } catch (err) {
            // Init runs once: undo the database so the next provision runs the (fixed) files again from scratch.
            await closeClient(owner);
            await admin.query(`drop database if exists ${quoteIdent(db.name)} with (force)`).catch(() => {});
            throw err;
          }
        }
        const applied = db.migrations ? await applyMigrations(owner, db.name, db.migrations, progress) : [];
        results.push({ name: db.name, created, applied });
      } catch (err) {
        if (err instanceof MachineroomError) throw err;
        throw new MachineroomError('ERR_INTERNAL', `database ${db.name}: ${describePgError(err)}`, { cause: err });
      } finally {
        await closeClient(owner);
      }
    }
  } finally {
    if (!opts.admin) await closeClient(admin);
  }
  return results;
}
