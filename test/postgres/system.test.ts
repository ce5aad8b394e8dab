// The system engine with the machine's own PostgreSQL (Debian's postgresql-15 here; CI installs `postgresql` via apt):
// found on PATH and in /usr/lib/postgresql/N/bin, then one real cluster: initdb, start, provision, probe, stop.
// Under CI=true a missing system engine fails the test instead of skipping it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defaultSystemDirs, ensureCluster, locateEngine, probePostgres, provision, serverUser, waitReady } from '../../src/postgres/index.js';
import type { PgEngine, PgUser } from '../../src/postgres/index.js';
import { freePort } from '../support/ports.js';
import { createServerSet, makeProject, secs } from './support.js';

const project = makeProject();
const servers = createServerSet();
after(async () => {
  await servers.stopAll();
  project.remove();
});

let user: PgUser | undefined;
let engine: PgEngine | undefined;

test('locateEngine(system) finds the machine PostgreSQL (PATH first, then /usr/lib/postgresql/N/bin)', async (t) => {
  user = await serverUser();
  try {
    engine = await locateEngine('system', { stateDir: project.stateDir, ...(user ? { user } : {}) });
  } catch (err) {
    if (process.env.CI === 'true') throw new Error(`CI must provide a system PostgreSQL (apt-get install postgresql): ${(err as Error).message}`, { cause: err });
    t.skip(`no system PostgreSQL here: ${(err as Error).message}`);
    return;
  }
  assert.equal(engine.kind, 'system');
  assert.ok(engine.major >= 13, engine.version);
  t.diagnostic(`system engine: PostgreSQL ${engine.version} in ${engine.binDir}`);
  // The same binaries without PATH, from the usual install places (Debian does not put them on PATH).
  if (defaultSystemDirs().includes(engine.binDir)) {
    const fromDefaults = await locateEngine('system', { stateDir: project.stateDir, path: '', ...(user ? { user } : {}) });
    assert.equal(fromDefaults.binDir, engine.binDir);
  }
  const explicit = await locateEngine('system', { stateDir: project.stateDir, binDir: engine.binDir, ...(user ? { user } : {}) });
  assert.deepEqual(explicit, engine);
});

test('the system engine makes a cluster, serves, provisions and probes', async (t) => {
  if (!engine) {
    t.skip('no system PostgreSQL');
    return;
  }
  const dataDir = join(project.stateDir, 'data', 'postgres', 'sys', 'pgdata');
  const superPassword = 'super-secret';
  let started = Date.now();
  assert.deepEqual(await ensureCluster(engine, { dataDir, ownedRoot: project.stateDir, superPassword, ...(user ? { user } : {}) }), { created: true });
  const initdbMs = Date.now() - started;
  const port = await freePort();
  started = Date.now();
  const server = servers.start(engine, { dataDir, port, user });
  const superConn = { host: '127.0.0.1', port, user: 'postgres', password: superPassword, database: 'postgres' };
  let version: string;
  try {
    version = await waitReady(superConn, Date.now() + 60_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${server.output()}`);
  }
  t.diagnostic(`initdb ${secs(initdbMs)}, start-to-ready ${secs(Date.now() - started)}`);
  assert.match(version, new RegExp(`^PostgreSQL ${engine.major}\\.`));
  const results = await provision(superConn, [{ name: 'app', user: 'app', password: 'app-pw', init: [] }]);
  assert.deepEqual(results, [{ name: 'app', created: true, applied: [] }]);
  const probe = await probePostgres({ host: '127.0.0.1', port, user: 'app', password: 'app-pw', database: 'app' }, 5000);
  assert.equal(probe.status, 'passing', probe.output);
  assert.equal(await server.stop(), 0, server.output());
});
