// Migrations: *.sql in a directory, applied in name order, each in its own transaction, bookkept in schema_migrations
// (version = the file name). The table is locked per file, so two provisioners never apply the same file twice.
// A file must not hold its own BEGIN/COMMIT, nor statements that refuse transactions (CREATE INDEX CONCURRENTLY).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MachineroomError } from '../errors/index.js';
import { readSqlFile, sqlFileError } from './sql-file.js';
import type { PgClient } from './connect.js';

/** The *.sql file names of a migrations directory, in the order they apply. */
export function listMigrations(database: string, dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new MachineroomError('ERR_CONFIG_INVALID', `database ${database}: cannot read the migrations directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return names.filter((n) => n.endsWith('.sql')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Applies the pending migrations of `dir` through `client` (connected as the owner); returns the versions applied. */
export async function applyMigrations(client: PgClient, database: string, dir: string, progress: (line: string) => void): Promise<string[]> {
  const files = listMigrations(database, dir);
  await client.query('create table if not exists schema_migrations(version text primary key, applied_at timestamptz not null default now())');
  const done = new Set((await client.query<{ version: string }>('select version from schema_migrations')).rows.map((r) => r.version));
  const applied: string[] = [];
  for (const version of files) {
    if (done.has(version)) continue;
    const file = join(dir, version);
    const text = readSqlFile(database, 'migration', file);
    const started = Date.now();
    await client.query('begin');
    try {
      await client.query('lock table schema_migrations in exclusive mode');
      const again = await client.query('select 1 from schema_migrations where version = $1', [version]);
      if (again.rowCount) {
        await client.query('commit');
        continue;
      }
      try {
        await client.query(text);
      } catch (err) {
        throw sqlFileError(database, 'migration', file, text, err);
      }
      await client.query('insert into schema_migrations(version) values ($1)', [version]);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
    applied.push(version);
    progress(`${database}: migration ${version} applied (${Date.now() - started} ms)`);
  }
  return applied;
}
