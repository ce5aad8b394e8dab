// The embedded engine end to end, with one real PostgreSQL 18 cluster: initdb, start, provision (roles, databases,
// init SQL once, migrations once and in order), probes, a credential change, restart, snapshot and restore.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import {
  ensureCluster,
  embeddedPackageName,
  loadCredentials,
  locateEngine,
  postgresUrl,
  probePostgres,
  provision,
  restoreDataDir,
  serverUser,
  snapshotDataDir,
  waitReady,
} from '../../src/postgres/index.js';
import type { DatabaseSpec, PgConn, PgEngine, PgUser } from '../../src/postgres/index.js';
import { isErrorCode } from '../../src/errors/index.js';
import { freePort } from '../support/ports.js';
import { createServerSet, makeProject, secs } from './support.js';
import type { TestServer } from './support.js';

const project = makeProject();
const servers = createServerSet();
after(async () => {
  await servers.stopAll();
  project.remove();
});

const resourceDir = join(project.stateDir, 'data', 'postgres', 'db');
const dataDir = join(resourceDir, 'pgdata');
const sqlDir = join(project.dir, 'sql');
const migrations = join(sqlDir, 'migrations');
mkdirSync(migrations, { recursive: true });
writeFileSync(join(sqlDir, 'init.sql'), `create table host_count(hostname varchar(127) primary key, count integer);\ninsert into host_count values ('seed', 1);\ncreate table init_runs(at timestamptz default now());\ninsert into init_runs default values;\n`);
// Names that sort differently as numbers and as text: 010 must come after 002, and 1000 after 010 only as text.
const migrationFiles: Record<string, string> = {
  '001_log.sql': 'create table migration_log(id serial primary key, name text not null);\ninsert into migration_log(name) values (\'001\');',
  '002_add_column.sql': "alter table host_count add column note text;\ninsert into migration_log(name) values ('002');",
  '010_index.sql': "create index host_count_note on host_count(note);\ninsert into migration_log(name) values ('010');",
};
for (const [name, text] of Object.entries(migrationFiles)) writeFileSync(join(migrations, name), text);
writeFileSync(join(migrations, 'README.md'), 'not a migration');

let user: PgUser | undefined;
let engine: PgEngine;
let superPassword: string;
let appPassword: string;
let port: number;
let server: TestServer | undefined;
let superConn: PgConn;

const weird: DatabaseSpec = { name: 'we"ird db', user: `o'dd "role`, password: `p'a\\ss"w%rd@:/`, init: [] };
function hostCount(password = appPassword): DatabaseSpec {
  return { name: 'host_count', user: 'host_count', password, init: [join(sqlDir, 'init.sql')], migrations };
}
function appConn(password = appPassword): PgConn {
  return { host: '127.0.0.1', port, user: 'host_count', password, database: 'host_count' };
}

async function query<T extends pg.QueryResultRow>(conn: PgConn, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ ...conn, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function start(): Promise<{ version: string; ms: number }> {
  const started = Date.now();
  server = servers.start(engine, { dataDir, port, user });
  try {
    const version = await waitReady(superConn, Date.now() + 60_000);
    return { version, ms: Date.now() - started };
  } catch (err) {
    throw new Error(`server did not become ready: ${(err as Error).message}\n${server.output()}`);
  }
}

async function stop(): Promise<void> {
  const code = await server?.stop();
  assert.equal(code, 0, `fast shutdown exits 0\n${server?.output()}`);
  server = undefined;
}

test('serverUser: as root, the dedicated machineroom-pg user (created when missing); otherwise none', async () => {
  user = await serverUser();
  if (process.getuid?.() === 0) {
    assert.equal(user?.name, 'machineroom-pg');
    assert.ok(user.uid > 0 && user.gid > 0);
    assert.deepEqual(await serverUser(), user, 'stable');
  } else {
    assert.equal(user, undefined);
  }
});

test('locateEngine(embedded): PostgreSQL 18 from the platform package, with its library shim (idempotent, concurrent)', async () => {
  const located = await Promise.all([1, 2, 3].map(() => locateEngine('embedded', { stateDir: project.stateDir, ...(user ? { user } : {}), path: '' })));
  engine = located[0]!;
  for (const other of located) assert.deepEqual(other, engine);
  assert.equal(engine.kind, 'embedded');
  assert.equal(engine.major, 18);
  assert.match(engine.version, /^18\.\d+$/);
  assert.ok(engine.binDir.includes(embeddedPackageName()), `${engine.binDir} is the package's`);
  const shim = engine.env.LD_LIBRARY_PATH!.split(':')[0]!;
  assert.ok(shim.startsWith(join(project.stateDir, 'engines', 'embedded-')), shim);
  assert.ok(readlinkSync(join(shim, 'libicuuc.so.60')).endsWith('native/lib/libicuuc.so.60.2'));
  assert.equal(engine.env.LC_ALL, 'C');
});

test('ensureCluster makes the cluster (owned by the server user, 0700); the server starts and reports 18.x', async (t) => {
  const creds = await loadCredentials(resourceDir, ['host_count']);
  superPassword = creds.superPassword;
  appPassword = creds.passwords.host_count!;
  port = await freePort();
  superConn = { host: '127.0.0.1', port, user: 'postgres', password: superPassword, database: 'postgres' };

  const lines: string[] = [];
  const started = Date.now();
  const made = await ensureCluster(engine, { dataDir, ownedRoot: project.stateDir, superPassword, ...(user ? { user } : {}), onProgress: (l) => lines.push(l), name: 'db' });
  const initdbMs = Date.now() - started;
  assert.deepEqual(made, { created: true });
  assert.match(lines.join('\n'), /initdb .*pgdata \(PostgreSQL 18\.\d+, embedded engine/);
  assert.match(lines.at(-1)!, /^initdb done in \d+\.\d s$/);
  assert.equal(readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim(), '18');
  const st = statSync(dataDir);
  assert.equal(st.mode & 0o777, 0o700);
  if (user) assert.equal(st.uid, user.uid);
  assert.deepEqual(readdirSync(resourceDir).sort(), ['credentials.json', 'credentials.lock', 'pgdata'].filter((n) => readdirSync(resourceDir).includes(n)).sort(), 'no initdb leftovers');
  assert.ok(!readdirSync(resourceDir).some((n) => n.startsWith('.')), `no leftovers: ${readdirSync(resourceDir).join(', ')}`);

  const { version, ms } = await start();
  assert.match(version, /^PostgreSQL 18\.\d+ /);
  t.diagnostic(`initdb ${secs(initdbMs)}, cold start-to-ready ${secs(ms)}`);
});

test('provision: roles, databases owned by them, init SQL once, migrations in name order', async () => {
  const lines: string[] = [];
  const results = await provision(superConn, [hostCount(), weird], (l) => lines.push(l));
  assert.deepEqual(results, [
    { name: 'host_count', created: true, applied: ['001_log.sql', '002_add_column.sql', '010_index.sql'] },
    { name: 'we"ird db', created: true, applied: [] },
  ]);
  const text = lines.join('\n');
  assert.match(text, /role host_count created/);
  assert.match(text, /database host_count created \(owner host_count\)/);
  assert.match(text, /host_count: init .*init\.sql \(\d+ ms\)/);
  assert.match(text, /host_count: migration 010_index\.sql applied/);

  const log = await query<{ name: string }>(appConn(), 'select name from migration_log order by id');
  assert.deepEqual(log.map((r) => r.name), ['001', '002', '010']);
  const owner = await query<{ owner: string }>(superConn, "select pg_get_userbyid(datdba) as owner from pg_database where datname = 'host_count'");
  assert.equal(owner[0]?.owner, 'host_count');
  const versions = await query<{ version: string }>(appConn(), 'select version from schema_migrations order by version');
  assert.deepEqual(versions.map((r) => r.version), ['001_log.sql', '002_add_column.sql', '010_index.sql']);
  // Quoting: a role and a database with quotes and a password with quote, backslash and URL characters work.
  const w = await query<{ u: string; d: string }>({ host: '127.0.0.1', port, user: weird.user, password: weird.password, database: weird.name }, 'select current_user as u, current_database() as d');
  assert.deepEqual(w, [{ u: weird.user, d: weird.name }]);
  const url = new URL(postgresUrl({ host: '127.0.0.1', port, user: weird.user, password: weird.password, database: weird.name }));
  assert.equal(decodeURIComponent(url.password), weird.password);
  assert.equal(decodeURIComponent(url.pathname.slice(1)), weird.name);
});

test('provision again: nothing created, no init, no migration, passwords left alone', async () => {
  const lines: string[] = [];
  const results = await provision(superConn, [hostCount(), weird], (l) => lines.push(l));
  assert.deepEqual(results, [
    { name: 'host_count', created: false, applied: [] },
    { name: 'we"ird db', created: false, applied: [] },
  ]);
  assert.deepEqual(lines, [], 'an unchanged password is not rewritten');
  assert.equal((await query(appConn(), 'select * from init_runs')).length, 1, 'init ran once');
  assert.equal((await query(appConn(), 'select * from host_count')).length, 1);
});

test('probePostgres: passing as the role, critical with a wrong password', async () => {
  const ok = await probePostgres(appConn(), 5000);
  assert.equal(ok.status, 'passing');
  assert.match(ok.output, new RegExp(`^postgres 127\\.0\\.0\\.1:${port} db=host_count user=host_count: ok \\(\\d+ ms\\)$`));
  const bad = await probePostgres(appConn('wrong'), 5000);
  assert.equal(bad.status, 'critical');
  assert.match(bad.output, /db=host_count user=host_count: password authentication failed for user "host_count"/);
});

test('a credential change: provision sets the new password, the old one stops working', async () => {
  const next = `${appPassword}-rotated`;
  const lines: string[] = [];
  await provision(superConn, [hostCount(next)], (l) => lines.push(l));
  assert.deepEqual(lines, ['role host_count password and login set']);
  assert.equal((await probePostgres(appConn(next), 5000)).status, 'passing');
  assert.equal((await probePostgres(appConn(appPassword), 5000)).status, 'critical');
  await provision(superConn, [hostCount(appPassword)]);
  assert.equal((await probePostgres(appConn(), 5000)).status, 'passing');
});

test('SQL errors name the database, the file and the line; a failed init leaves no database behind', async () => {
  const bad = join(sqlDir, 'bad-init.sql');
  writeFileSync(bad, 'create table fine(x int);\nselect 1;\n  creat table broken(x int);\n');
  const spec: DatabaseSpec = { name: 'second', user: 'second', password: 'second-pw', init: [bad] };
  await assert.rejects(provision(superConn, [spec]), (err: Error) => {
    assert.ok(isErrorCode(err, 'ERR_CONFIG_INVALID'), String(err));
    assert.match(err.message, /^database second: init .*bad-init\.sql:3:3: syntax error at or near "creat"/);
    return true;
  });
  assert.equal((await query(superConn, "select 1 from pg_database where datname = 'second'")).length, 0, 'dropped for a clean retry');
  writeFileSync(bad, 'create table fine(x int);\n');
  assert.deepEqual(await provision(superConn, [spec]), [{ name: 'second', created: true, applied: [] }]);

  const failing = join(migrations, '011_broken.sql');
  writeFileSync(failing, "insert into migration_log(name) values ('011');\nselect * from no_such_table;\n");
  await assert.rejects(provision(superConn, [hostCount()]), /database host_count: migration .*011_broken\.sql:2:15: relation "no_such_table" does not exist/);
  const log = await query<{ name: string }>(appConn(), 'select name from migration_log order by id');
  assert.deepEqual(log.map((r) => r.name), ['001', '002', '010'], 'the failed file rolled back as a whole');
  writeFileSync(failing, "insert into migration_log(name) values ('011');\n");
});

test('stop, then restart: data kept, old migrations not re-applied, a new one is; a stopped server probes critical', async (t) => {
  assert.deepEqual(await ensureCluster(engine, { dataDir, ownedRoot: project.stateDir, superPassword, ...(user ? { user } : {}) }), { created: false, livePid: server!.pid }, 'a live server is reported');
  await stop();
  const down = await probePostgres(appConn(), 2000);
  assert.equal(down.status, 'critical');
  assert.match(down.output, /ECONNREFUSED/);

  assert.deepEqual(await ensureCluster(engine, { dataDir, ownedRoot: project.stateDir, superPassword, ...(user ? { user } : {}) }), { created: false });
  const { ms } = await start();
  t.diagnostic(`warm start-to-ready ${secs(ms)}`);
  writeFileSync(join(migrations, '020_more.sql'), "insert into migration_log(name) values ('020');\n");
  const results = await provision(superConn, [hostCount()]);
  assert.deepEqual(results, [{ name: 'host_count', created: false, applied: ['011_broken.sql', '020_more.sql'] }]);
  const log = await query<{ name: string }>(appConn(), 'select name from migration_log order by id');
  assert.deepEqual(log.map((r) => r.name), ['001', '002', '010', '011', '020']);
  assert.equal((await query(appConn(), 'select * from init_runs')).length, 1);
});

test('a stale postmaster.pid (its pid is not a running postgres) is removed before start', async () => {
  await stop();
  writeFileSync(join(dataDir, 'postmaster.pid'), `${process.pid}\n${dataDir}\n`);
  const lines: string[] = [];
  assert.deepEqual(await ensureCluster(engine, { dataDir, ownedRoot: project.stateDir, superPassword, ...(user ? { user } : {}), onProgress: (l) => lines.push(l) }), { created: false });
  assert.deepEqual(lines, [`removed a stale postmaster.pid (pid ${process.pid} is not a running postgres)`]);
  assert.throws(() => readFileSync(join(dataDir, 'postmaster.pid')));
});

test('snapshot → modify → restore: the data dir comes back as it was, owned by the server user', async () => {
  const file = join(project.stateDir, 'snapshots', 'db.tar.gz');
  const { bytes } = await snapshotDataDir(dataDir, file);
  assert.ok(bytes > 100_000, `${bytes} bytes`);
  assert.equal(statSync(file).size, bytes);

  await start();
  await assert.rejects(snapshotDataDir(dataDir, join(dirname(file), 'running.tar.gz')), (err: Error) => isErrorCode(err, 'ERR_BAD_REQUEST') && /stop the server first/.test(err.message));
  await query(appConn(), "insert into host_count values ('after-snapshot', 2)");
  await query(appConn(), 'drop table init_runs');
  await assert.rejects(restoreDataDir(file, dataDir, user), /stop the server first/);
  await stop();

  await restoreDataDir(file, dataDir, user);
  const st = statSync(dataDir);
  assert.equal(st.mode & 0o777, 0o700);
  if (user) assert.equal(st.uid, user.uid);
  assert.ok(!readdirSync(resourceDir).some((n) => n.startsWith('.')), `no leftovers: ${readdirSync(resourceDir).join(', ')}`);
  assert.deepEqual(await ensureCluster(engine, { dataDir, ownedRoot: project.stateDir, superPassword, ...(user ? { user } : {}) }), { created: false });
  await start();
  const rows = await query<{ hostname: string }>(appConn(), 'select hostname from host_count order by hostname');
  assert.deepEqual(rows.map((r) => r.hostname), ['seed']);
  assert.equal((await query(appConn(), 'select * from init_runs')).length, 1);
  await stop();
});
