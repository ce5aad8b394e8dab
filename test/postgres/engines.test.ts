// Engine location and the checks around clusters that need no running server: clear errors, the embedded copy for a
// server user who cannot reach node_modules, version mismatches, blocked directories, credentials, URLs, bad snapshots.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { clearProvisionStamp, ensureCluster, loadCredentials, locateEngine, postgresUrl, probePostgres, provisionStamp, readProvisionStamp, restoreDataDir, serverUser, waitReady, writeProvisionStamp } from '../../src/postgres/index.js';
import type { PgEngine, PgUser } from '../../src/postgres/index.js';
import { findPlatformPackage, prepareEmbedded } from '../../src/postgres/embedded-engine.js';
import { isErrorCode } from '../../src/errors/index.js';
import { freePort } from '../support/ports.js';
import { makeProject, secs } from './support.js';

const project = makeProject();
after(() => project.remove());
const asRoot = process.getuid?.() === 0;

let user: PgUser | undefined;
let engine: PgEngine;

test('locateEngine finds the embedded engine', async () => {
  user = await serverUser();
  engine = await locateEngine('embedded', { stateDir: project.stateDir, ...(user ? { user } : {}) });
  assert.equal(engine.major, 18);
});

test('locateEngine(system): a bin_dir without the binaries is a config error naming the key and the directory', async () => {
  const empty = join(project.dir, 'empty-bin');
  mkdirSync(empty);
  await assert.rejects(locateEngine('system', { stateDir: project.stateDir, binDir: empty, name: 'db' }), (err: Error) => {
    assert.ok(isErrorCode(err, 'ERR_CONFIG_INVALID'), String(err));
    assert.match(err.message, new RegExp(`^postgres\\.db\\.bin_dir: ${empty} has no executable initdb or postgres; .*apt-get install postgresql`));
    return true;
  });
});

test('locateEngine(system): nothing on PATH nor in the usual places says how to install it or set bin_dir', async () => {
  await assert.rejects(locateEngine('system', { stateDir: project.stateDir, path: join(project.dir, 'empty-bin'), fallbackDirs: [], name: 'db' }), (err: Error) => {
    assert.ok(isErrorCode(err, 'ERR_CONFIG_INVALID'), String(err));
    assert.match(err.message, /^postgres\.db: engine: system needs PostgreSQL's server binaries \(initdb and postgres\)/);
    assert.match(err.message, /apt-get install postgresql/);
    assert.match(err.message, /set postgres\.db\.bin_dir/);
    assert.match(err.message, /engine: embedded/);
    return true;
  });
});

/** A stand-in install of the platform package under `parent`: its files hard-linked, without the library symlinks
 * (as `npm ci --ignore-scripts` leaves it). */
function mirrorPackage(parent: string): string {
  const real = findPlatformPackage();
  const fake = join(parent, 'pkg');
  const mirror = (from: string, to: string): void => {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      const st = lstatSync(join(from, name));
      if (st.isDirectory()) mirror(join(from, name), join(to, name));
      else if (!st.isSymbolicLink()) linkSync(join(from, name), join(to, name));
    }
  };
  mirror(join(real.dir, 'native'), join(fake, 'native'));
  return fake;
}

test("without the package's own library symlinks (npm --ignore-scripts), the shim in the state dir makes it run", async () => {
  const fake = mirrorPackage(join(project.dir, 'no-scripts'));
  assert.throws(() => lstatSync(join(fake, 'native', 'lib', 'libicuuc.so.60')), /ENOENT/);
  const stateDir = join(project.dir, 'no-scripts-state');
  const located = await prepareEmbedded({ dir: fake, version: 'no-scripts' }, { stateDir, ...(user ? { user } : {}) });
  assert.equal(located.binDir, join(fake, 'native', 'bin'));
  assert.equal(located.major, 18, 'postgres --version ran, so libicu was found through the shim');
  assert.equal(readlinkSync(join(stateDir, 'engines', 'embedded-no-scripts', 'lib', 'libicuuc.so.60')), join(fake, 'native', 'lib', 'libicuuc.so.60.2'));
});

test('a server user who cannot enter node_modules gets a copy of native/ (hard links) that runs initdb', { skip: !asRoot && 'needs root (the dedicated user)' }, async (t) => {
  const real = findPlatformPackage();
  const hidden = join(project.dir, 'hidden');
  mkdirSync(hidden, { mode: 0o700 });
  chmodSync(hidden, 0o700);
  const fake = mirrorPackage(hidden);
  const stateDir = join(project.dir, 'copy-state');
  const started = Date.now();
  const [a, b] = await Promise.all([prepareEmbedded({ dir: fake, version: 'test-copy' }, { stateDir, user: user! }), prepareEmbedded({ dir: fake, version: 'test-copy' }, { stateDir, user: user! })]);
  t.diagnostic(`copy (two at once) ${secs(Date.now() - started)}`);
  assert.deepEqual(a, b);
  const engineDir = join(stateDir, 'engines', 'embedded-test-copy');
  assert.equal(a.binDir, join(engineDir, 'native', 'bin'));
  assert.equal(a.env.LD_LIBRARY_PATH, join(engineDir, 'native', 'lib'));
  assert.equal(a.major, 18);
  assert.deepEqual(readdirSync(engineDir).sort().filter((n) => n !== 'version.json'), ['native'], 'no half-made copies left');
  assert.equal(statSync(join(a.binDir, 'postgres')).ino, statSync(join(real.dir, 'native', 'bin', 'postgres')).ino, 'hard-linked');
  assert.equal(readlinkSync(join(engineDir, 'native', 'lib', 'libicuuc.so.60')), 'libicuuc.so.60.2', 'relative links inside the copy');

  // The copy is a whole engine: initdb finds its share/ files and libraries as the server user.
  const dataDir = join(stateDir, 'data', 'pgdata');
  const lines: string[] = [];
  assert.deepEqual(await ensureCluster(a, { dataDir, ownedRoot: stateDir, superPassword: 'x', user: user!, onProgress: (l) => lines.push(l) }), { created: true });
  t.diagnostic(lines.join('; '));
  assert.equal(readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim(), '18');
});

test('ensureCluster refuses data made by another major version, saying how to discard it', async () => {
  const dataDir = join(project.stateDir, 'data', 'postgres', 'old', 'pgdata');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'PG_VERSION'), '11\n');
  await assert.rejects(ensureCluster(engine, { dataDir, ownedRoot: project.stateDir, superPassword: 'x', ...(user ? { user } : {}), name: 'old' }), (err: Error) => {
    assert.ok(isErrorCode(err, 'ERR_VERSION_MISMATCH'), String(err));
    assert.match(err.message, /was made by PostgreSQL 11, but the embedded engine is PostgreSQL 18\.\d+/);
    assert.match(err.message, /`machineroom db reset old`/);
    assert.match(err.message, /down --volumes/);
    return true;
  });
});

test('ensureCluster refuses a non-empty directory that is not a cluster', async () => {
  const dataDir = join(project.stateDir, 'data', 'postgres', 'junk', 'pgdata');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'notes.txt'), 'hello');
  await assert.rejects(ensureCluster(engine, { dataDir, ownedRoot: project.stateDir, superPassword: 'x', name: 'junk' }), /is not empty but holds no PostgreSQL cluster \(no PG_VERSION\)/);
});

test('as root: a directory above the project that the server user cannot enter fails early, naming it; ours get o+x', { skip: !asRoot && 'needs root (the dedicated user)' }, async () => {
  const closed = join(project.dir, 'closed');
  mkdirSync(closed, { mode: 0o700 });
  chmodSync(closed, 0o700);
  const stateDir = join(closed, 'proj', '.machineroom');
  mkdirSync(stateDir, { recursive: true });
  await assert.rejects(ensureCluster(engine, { dataDir: join(stateDir, 'data', 'pgdata'), ownedRoot: stateDir, superPassword: 'x', user: user! }), (err: Error) => {
    assert.ok(isErrorCode(err, 'ERR_FORBIDDEN'), String(err));
    assert.match(err.message, new RegExp(`machineroom-pg cannot enter ${closed}; allow it with \`chmod o\\+x ${closed}\``));
    return true;
  });
  // Inside the project's own state dir, machineroom fixes the mode itself (here: a 0700 data/ made by someone else).
  const open = join(project.dir, 'open', '.machineroom');
  mkdirSync(join(open, 'data'), { recursive: true, mode: 0o755 });
  chmodSync(join(open, 'data'), 0o700);
  await assert.rejects(
    ensureCluster({ ...engine, binDir: join(project.dir, 'no-such-bin') }, { dataDir: join(open, 'data', 'pgdata'), ownedRoot: open, superPassword: 'x', user: user! }),
    /ENOENT|initdb/,
    'got past the permission check to initdb (which is missing here)',
  );
  assert.equal(statSync(join(open, 'data')).mode & 0o777, 0o701);
  assert.deepEqual(readdirSync(join(open, 'data')), [], 'a failed initdb leaves nothing behind');
});

test('loadCredentials: generated once and then stable, 0600, configured roles not stored, concurrent callers agree', async () => {
  const dir = join(project.stateDir, 'data', 'postgres', 'creds');
  const [a, b] = await Promise.all([loadCredentials(dir, ['app']), loadCredentials(dir, ['app'])]);
  assert.deepEqual(a, b);
  assert.match(a.superPassword, /^[A-Za-z0-9_-]{24}$/);
  assert.match(a.passwords.app!, /^[A-Za-z0-9_-]{24}$/);
  assert.notEqual(a.superPassword, a.passwords.app);
  assert.equal(statSync(join(dir, 'credentials.json')).mode & 0o777, 0o600);
  const c = await loadCredentials(dir, ['app', 'other']);
  assert.equal(c.superPassword, a.superPassword);
  assert.equal(c.passwords.app, a.passwords.app);
  assert.deepEqual(Object.keys(c.passwords).sort(), ['app', 'other']);
  const d = await loadCredentials(dir, []);
  assert.deepEqual(d.passwords, {});
  assert.equal(JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')).passwords.other, c.passwords.other, 'kept while unused');
  writeFileSync(join(dir, 'credentials.json'), '{not json');
  await assert.rejects(loadCredentials(dir, []), /is damaged .* will not replace it/);
});

test('postgresUrl percent-encodes user, password and database; IPv6 hosts in brackets', () => {
  assert.equal(postgresUrl({ host: '127.77.0.9', port: 5432, user: 'host_count', password: 'p@ss:w/rd%', database: 'my db' }), 'postgres://host_count:p%40ss%3Aw%2Frd%25@127.77.0.9:5432/my%20db');
  const url = new URL(postgresUrl({ host: '::1', port: 6543, user: 'a"b', password: "it's", database: 'x' }));
  assert.equal(url.hostname, '[::1]');
  assert.equal(decodeURIComponent(url.username), 'a"b');
  assert.equal(decodeURIComponent(url.password), "it's");
});

test('probePostgres and waitReady against a port where nothing listens: critical at once, ERR_TIMEOUT at the deadline', async () => {
  const port = await freePort();
  const conn = { host: '127.0.0.1', port, user: 'postgres', password: 'x', database: 'postgres' };
  const probe = await probePostgres(conn, 1000);
  assert.equal(probe.status, 'critical');
  assert.match(probe.output, new RegExp(`^postgres 127\\.0\\.0\\.1:${port} db=postgres user=postgres: .*ECONNREFUSED`));
  const started = Date.now();
  await assert.rejects(waitReady(conn, Date.now() + 300), (err: Error) => {
    assert.ok(isErrorCode(err, 'ERR_TIMEOUT'), String(err));
    assert.match(err.message, /did not become ready in time: .*ECONNREFUSED/);
    return true;
  });
  assert.ok(Date.now() - started < 3000);
});

test('restoreDataDir refuses an archive without PG_VERSION at its root, and a file that is no archive; the data dir is untouched', async () => {
  const dataDir = join(project.stateDir, 'data', 'postgres', 'restore', 'pgdata');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'PG_VERSION'), '18\n');
  const { create } = await import('tar');
  const src = join(project.dir, 'not-a-cluster');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'sub', 'PG_VERSION'), '18\n');
  const archive = join(project.dir, 'not-a-cluster.tar.gz');
  await create({ gzip: true, file: archive, cwd: src }, ['sub']);
  await assert.rejects(restoreDataDir(archive, dataDir, user), (err: Error) => {
    assert.ok(isErrorCode(err, 'ERR_BAD_REQUEST'), String(err));
    assert.match(err.message, /is not a PostgreSQL data directory snapshot: it has no PG_VERSION at its root/);
    return true;
  });
  const garbage = join(project.dir, 'garbage.tar.gz');
  writeFileSync(garbage, gzipSync(Buffer.from('this is not tar')));
  await assert.rejects(restoreDataDir(garbage, dataDir, user), /not a (readable \.tar\.gz snapshot|PostgreSQL data directory snapshot)/);
  await assert.rejects(restoreDataDir(join(project.dir, 'missing.tar.gz'), dataDir, user), /does not exist/);
  assert.deepEqual(readdirSync(dataDir), ['PG_VERSION']);
  assert.deepEqual(readdirSync(dirname(dataDir)), ['pgdata'], 'no extraction leftovers');
});

test('provisionStamp: the same for the same provisioning on the same cluster; new for another cluster, password, init file or migration', () => {
  const dir = join(project.dir, 'stamp');
  const data = join(dir, 'pgdata');
  const control = (id: bigint) => {
    const bytes = Buffer.alloc(16);
    bytes.writeBigUInt64LE(id, 0);
    mkdirSync(join(data, 'global'), { recursive: true });
    writeFileSync(join(data, 'global', 'pg_control'), bytes);
  };
  control(7000000000000000001n);
  mkdirSync(join(dir, 'migrations'), { recursive: true });
  writeFileSync(join(dir, 'init.sql'), 'create table t(x int);\n');
  writeFileSync(join(dir, 'migrations', '001.sql'), 'alter table t add y int;\n');
  const spec = (password = 's3cret') => [{ name: 'app', user: 'app', password, init: [join(dir, 'init.sql')], migrations: join(dir, 'migrations') }];
  const first = provisionStamp(data, spec());
  assert.ok(first, 'a stamp for a readable cluster and files');
  assert.equal(provisionStamp(data, spec()), first, 'same cluster, same spec: same stamp');
  assert.notEqual(provisionStamp(data, spec('other')), first, 'another password');
  writeFileSync(join(dir, 'init.sql'), 'create table t(x bigint);\n');
  const afterInit = provisionStamp(data, spec());
  assert.notEqual(afterInit, first, 'another init file content');
  writeFileSync(join(dir, 'migrations', '002.sql'), 'alter table t add z int;\n');
  const afterMigration = provisionStamp(data, spec());
  assert.notEqual(afterMigration, afterInit, 'a new migration');
  control(7000000000000000002n);
  assert.notEqual(provisionStamp(data, spec()), afterMigration, 'another cluster (db reset: a new initdb)');
  assert.equal(provisionStamp(join(dir, 'no-such-cluster'), spec()), undefined, 'no cluster: no stamp (full provisioning)');
  writeProvisionStamp(dir, afterMigration!);
  assert.equal(readProvisionStamp(dir), afterMigration);
  clearProvisionStamp(dir);
  assert.equal(readProvisionStamp(dir), undefined);
});
