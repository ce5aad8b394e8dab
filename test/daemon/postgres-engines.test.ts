// Issue 5, acceptance 4: every engine available here. The system engine runs Debian's PostgreSQL (installed by .ci/run)
// with init SQL and migrations; an external resource points at a running embedded one, is health-checked (critical
// when it goes away), published in KV and reached by a dependent through its own service address.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT, makeProject, runCli, cleanupProject, testEnv, waitFor } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { defaultSystemDirs } from '../../src/postgres/index.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

// A dependent that shows the database variables it was given.
const ENV_JS = `
const http = require('http');
http.createServer((req, res) => res.end(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => /DATABASE|^STORE_|^LEGACY_/.test(k))))))
  .listen(Number(process.env.PORT), process.env.HOST);
`;

/** A project the unprivileged server user can reach (tests run as root in CI). */
function project(files: Record<string, string>): string {
  const dir = makeProject(files, 'mr-pg-');
  chmodSync(dir, 0o755);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  dirs.push(dir);
  return dir;
}

interface Ps {
  instances: { name: string; service: string; address?: string; ports: Record<string, number>; health: string; healthOutput?: string }[];
}

async function ps(dir: string): Promise<Ps> {
  const r = await runCli(['ps', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Ps;
}

/** The variables the `web` instance was started with. */
async function webEnv(dir: string): Promise<Record<string, string>> {
  const web = (await ps(dir)).instances.find((i) => i.name === 'web.1')!;
  const res = await fetch(`http://${web.address}:${Object.values(web.ports)[0]}/`);
  return (await res.json()) as Record<string, string>;
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

const systemBin = defaultSystemDirs().find((d) => existsSync(join(d, 'initdb')));

test('the system engine: Debian PostgreSQL with init SQL, migrations, KV and DATABASE_URL', { skip: !systemBin && process.env.CI !== 'true' ? 'no system PostgreSQL here (apt-get install postgresql)' : false, timeout: 300_000 }, async () => {
  const webPort = await freePort();
  const dir = project({
    'env.js': ENV_JS,
    'init.sql': 'create table notes (id serial primary key, body text not null);\ninsert into notes (body) values (\'from init\');\n',
    'migrations/001_tags.sql': 'alter table notes add column tag text;\n',
    'migrations/002_more.sql': "insert into notes (body, tag) values ('from a migration', 'm');\n",
    'machineroom.yml': [
      'name: pgsys',
      'postgres:',
      '  store:',
      '    engine: system',
      '    databases:',
      '      app: { init: ./init.sql, migrations: ./migrations }',
      'services:',
      '  web:',
      '    command: node env.js',
      `    port: ${webPort}`,
      '    depends_on: { store: healthy }',
      '',
    ].join('\n'),
  });
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir, timeoutMs: 180_000 });
  assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  const url = (await runCli(['db', 'url', 'store'], { cwd: dir })).stdout.trim();
  const version = (await query<{ server_version: string }>(url, 'show server_version'))[0]!.server_version;
  // Debian keeps each major in /usr/lib/postgresql/<major>/bin.
  const expected = /postgresql\/(\d+)\//.exec(systemBin! + '/')?.[1];
  if (expected) assert.ok(version.startsWith(`${expected}.`), `the system's ${expected}.x runs, got ${version}`);
  assert.deepEqual((await query<{ body: string; tag: string | null }>(url, 'select body, tag from notes order by id')).map((r) => [r.body, r.tag]), [['from init', null], ['from a migration', 'm']]);
  assert.deepEqual((await query<{ version: string }>(url, 'select version from schema_migrations order by version')).map((r) => r.version), ['001_tags.sql', '002_more.sql']);
  const env = await webEnv(dir);
  assert.equal(env.DATABASE_URL, url, 'a dependent of exactly one database gets DATABASE_URL');
  assert.equal(env.STORE_URL, url);
  assert.equal(env.STORE_DATABASE, 'app');
  // psql: opens psql when it is installed (Debian's postgresql-client is), prints the URL when it is not.
  const psqlBin = ['/usr/bin/psql', '/usr/local/bin/psql'].find((f) => existsSync(f));
  if (psqlBin || process.env.CI === 'true') {
    const viaPsql = await runCli(['psql', 'store', '--', '-At', '-c', 'select count(*) from notes'], { cwd: dir });
    assert.equal(viaPsql.code, 0, viaPsql.stderr);
    assert.equal(viaPsql.stdout.trim(), '2');
  }
  const noPsql = await runCli(['psql', 'store'], { cwd: dir, env: testEnv({ PATH: '/nonexistent' }) });
  assert.equal(noPsql.code, 0, noPsql.stderr);
  assert.equal(noPsql.stdout.trim(), url);
  assert.match(noPsql.stderr, /psql is not installed/);
  // A restart does not run init or the migrations again.
  assert.equal((await runCli(['restart', 'store'], { cwd: dir, timeoutMs: 120_000 })).code, 0);
  await waitFor('store healthy again', async () => (await ps(dir)).instances.find((i) => i.name === 'store.1')?.health === 'passing', 60_000, 100);
  assert.equal((await query<{ n: string }>(url, 'select count(*) as n from notes'))[0]!.n, '2');
});

test('an external resource: registered and health-checked, never managed, reached through its service address', { timeout: 300_000 }, async () => {
  // The "external" server is an embedded one of another project.
  const origin = project({ 'machineroom.yml': ['name: pgorigin', 'postgres:', '  origin:', '    databases:', '      shared: { user: sharer }', 'services: {}', ''].join('\n') });
  const upOrigin = await runCli(['up', '-d', '--wait'], { cwd: origin, timeoutMs: 180_000 });
  assert.equal(upOrigin.code, 0, `${upOrigin.stdout}\n${upOrigin.stderr}`);
  const originUrl = (await runCli(['db', 'url', 'origin'], { cwd: origin })).stdout.trim();
  await query(originUrl, 'create table marks (name text); insert into marks values (\'origin\')');

  const webPort = await freePort();
  const dir = project({
    'env.js': ENV_JS,
    'machineroom.yml': ['name: pgext', 'postgres:', '  legacy:', '    engine: external', `    url: ${originUrl}`, 'services:', '  web:', '    command: node env.js', `    port: ${webPort}`, '    depends_on: { legacy: healthy }', ''].join('\n'),
  });
  const env = testEnv();
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir, env, timeoutMs: 120_000 });
  assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  const api = (JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { apiPort: number }).apiPort;
  const originHost = new URL(originUrl).hostname;
  const health = (await (await fetch(`http://127.0.0.1:${api}/v1/health/service/legacy`)).json()) as { Service: { Address: string; Port: number }; Checks: { Status: string }[] }[];
  assert.equal(health[0]!.Service.Address, originHost, 'registered at the external server');
  assert.ok(health[0]!.Checks.every((c) => c.Status === 'passing'));
  // The dependent reaches it through this project's service address (front door TCP forwarding to the server).
  const webVars = await webEnv(dir);
  const viaAddress = webVars.DATABASE_URL!;
  assert.ok(viaAddress, 'DATABASE_URL given');
  assert.notEqual(new URL(viaAddress).hostname, originHost, 'the service address, not the server itself');
  assert.deepEqual(await query<{ name: string }>(viaAddress, 'select name from marks'), [{ name: 'origin' }]);
  const kv = async (key: string) => (await fetch(`http://127.0.0.1:${api}/v1/kv/${key}?raw`)).text();
  assert.equal(await kv('postgres/shared/username'), 'sharer');
  assert.equal(await kv('postgres/shared/host'), new URL(viaAddress).hostname);
  // db verbs refuse to touch data they do not own.
  const reset = await runCli(['db', 'reset', 'legacy'], { cwd: dir });
  assert.equal(reset.code, 2, reset.stderr);
  assert.match(reset.stderr, /external server/);
  // The server goes away: the check turns critical; it comes back: passing again. machineroom never started it.
  assert.equal((await runCli(['stop', 'origin'], { cwd: origin, timeoutMs: 60_000 })).code, 0);
  await waitFor('legacy critical', async () => (await ps(dir)).instances.find((i) => i.name === 'legacy.1')?.health === 'critical', 30_000, 100);
  assert.equal((await runCli(['start', 'origin'], { cwd: origin, timeoutMs: 60_000 })).code, 0);
  await waitFor('legacy passing again', async () => (await ps(dir)).instances.find((i) => i.name === 'legacy.1')?.health === 'passing', 60_000, 100);
  assert.equal((await runCli(['down'], { cwd: dir })).code, 0);
  assert.deepEqual(await query<{ name: string }>(originUrl, 'select name from marks'), [{ name: 'origin' }], 'down of the project that registered it left the server alone');
});

test('a broken init file: up --wait fails at once, naming the file and the error, and the fixed file runs on restart', { timeout: 300_000 }, async () => {
  const dir = project({
    'init.sql': 'create table ok (v int);\ncreate tabel broken (v int);\n',
    'machineroom.yml': ['name: pgbroken', 'postgres:', '  db:', '    databases:', '      app: { init: ./init.sql }', 'services: {}', ''].join('\n'),
  });
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir, timeoutMs: 180_000 });
  assert.equal(up.code, 1, `${up.stdout}\n${up.stderr}`);
  assert.match(up.stderr, /db\.1: .*provisioning failed: .*init\.sql:2.*syntax error at or near "tabel"/);
  writeFileSync(join(dir, 'init.sql'), 'create table ok (v int);\ncreate table fixed (v int);\n');
  assert.equal((await runCli(['restart', 'db'], { cwd: dir, timeoutMs: 120_000 })).code, 0);
  await waitFor('db healthy after the fix', async () => (await ps(dir)).instances.find((i) => i.name === 'db.1')?.health === 'passing', 60_000, 100);
  const url = (await runCli(['db', 'url', 'db'], { cwd: dir })).stdout.trim();
  assert.deepEqual((await query<{ t: string }>(url, "select tablename as t from pg_tables where schemaname = 'public' order by 1")).map((r) => r.t), ['fixed', 'ok']);
});
