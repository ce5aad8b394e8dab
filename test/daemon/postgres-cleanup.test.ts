// Nothing outlives the daemon, PostgreSQL included: SIGKILL of the daemon takes the server and every backend with it
// (they call setsid, so the process group alone would miss them), and the next `up` starts the same cluster with its data.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { alive, makeProject, runCli, cleanupProject, scanInstances, waitFor } from '../support/cli.js';
import { listProcessStats, readCmdline } from '../../src/proc/index.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

/** The postmaster (its command line names the data directory in `dir`) and its children (backends, checkpointer…). */
function postgresOf(dir: string): number[] {
  const stats = listProcessStats();
  const postmasters = stats.filter((s) => (readCmdline(s.pid) ?? []).join(' ').includes(join(dir, '.machineroom'))).map((s) => s.pid);
  return [...postmasters, ...stats.filter((s) => postmasters.includes(s.ppid)).map((s) => s.pid)];
}

async function sql(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

test('SIGKILL to the daemon: the server and its backends are gone, and the next up recovers the data', { timeout: 300_000 }, async () => {
  const dir = makeProject({ 'machineroom.yml': ['name: pgkill', 'postgres:', '  db: {}', 'services: {}', ''].join('\n') }, 'mr-pgkill-');
  chmodSync(dir, 0o755);
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir, timeoutMs: 180_000 });
  assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  const url = (await runCli(['db', 'url', 'db'], { cwd: dir })).stdout.trim();
  await sql(url, "create table kept (v text); insert into kept values ('before the crash')");
  // A client holds a backend open, as an app would.
  const held = new pg.Client({ connectionString: url });
  await held.connect();
  held.on('error', () => undefined);
  try {
    // PostgreSQL rewrites its processes' titles over their environment, so they are found by the postmaster's
    // command line and parentage, not by MR_INSTANCE_ID.
    const pids = postgresOf(dir);
    assert.ok(pids.length >= 4, `the postmaster, its helpers and the held backend (found ${pids.length})`);
    const daemon = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { pid: number };
    process.kill(daemon.pid, 'SIGKILL');
    await waitFor('every PostgreSQL process of the project gone', () => pids.every((p) => !alive(p)) && scanInstances(dir).size === 0, 30_000, 100);
  } finally {
    await held.end().catch(() => undefined);
  }
  const again = await runCli(['up', '-d', '--wait'], { cwd: dir, timeoutMs: 180_000 });
  assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
  const url2 = (await runCli(['db', 'url', 'db'], { cwd: dir })).stdout.trim();
  assert.deepEqual(await sql(url2, 'select v from kept'), [{ v: 'before the crash' }]);
});

test('as root, a project the server user cannot enter keeps its cluster in /var/lib/machineroom, and down --volumes removes it', { skip: process.getuid?.() !== 0 ? 'needs root (the server runs as an unprivileged user only then)' : false, timeout: 300_000 }, async () => {
  // makeProject's directory is mode 0700, like a project under /root: machineroom-pg cannot enter it.
  const dir = makeProject({ 'machineroom.yml': ['name: pgprivate', 'postgres:', '  db: {}', 'services: {}', ''].join('\n') }, 'mr-pgprivate-');
  dirs.push(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir, timeoutMs: 180_000 });
  assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  const pointer = JSON.parse(readFileSync(join(dir, '.machineroom', 'data', 'postgres', 'db', 'pgdata.location'), 'utf8')) as { root: string; pgdata: string };
  assert.ok(pointer.root.startsWith('/var/lib/machineroom/pgprivate-'), pointer.root);
  assert.ok(existsSync(join(pointer.pgdata, 'PG_VERSION')), 'the cluster is in the relocated home');
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'the project directory keeps its mode');
  const events = await runCli(['events'], { cwd: dir });
  assert.match(events.stdout, /cannot enter .*mr-pgprivate-.*; its data lives in \/var\/lib\/machineroom\//);
  const url = (await runCli(['db', 'url', 'db'], { cwd: dir })).stdout.trim();
  assert.deepEqual(await sql(url, 'select 1 as one'), [{ one: 1 }]);
  const down = await runCli(['down', '--volumes'], { cwd: dir, timeoutMs: 60_000 });
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, new RegExp(`removed ${pointer.root}`));
  assert.equal(existsSync(pointer.root), false);
});
