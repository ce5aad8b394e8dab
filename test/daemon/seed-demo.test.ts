// Issue 5: the seed demo end to end — the README's demo config, with the embedded PostgreSQL (no system Postgres on
// PATH), alpha counting per host through the front door, credentials changed through beta, scale, down/up, db reset,
// snapshot/restore, and a SIGKILLed Postgres that turns critical, makes alpha answer 503 and comes back with its data.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { join, delimiter } from 'node:path';
import pg from 'pg';
import { ROOT, makeProject, runCli, cleanupProject, testEnv, waitFor } from '../support/cli.js';
import { frontDoorRequest } from '../support/front-door.js';
import type { FrontDoorAnswer } from '../support/front-door.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

type Answer = FrontDoorAnswer;

/** One request through the front door, with the Host header a browser would send. */
const get = frontDoorRequest;

interface Counts {
  host: string;
  counts: { hostname: string; count: number }[];
  total: number;
}

/** PATH without any directory that holds initdb or postgres (Debian's binaries are linked into /usr/local/bin here). */
function pathWithoutPostgres(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d && !existsSync(join(d, 'initdb')) && !existsSync(join(d, 'postgres')))
    .join(delimiter);
}

test('the seed demo: embedded Postgres 18, counts per host, credentials through beta, scale, down/up, reset, snapshot/restore, SIGKILL', { timeout: 600_000 }, async () => {
  const dir = makeProject({}, 'mr-seed-');
  dirs.push(dir);
  cpSync(join(ROOT, 'examples', 'seed-demo'), dir, { recursive: true, filter: (src) => !src.includes('.machineroom') && !src.includes('node_modules') });
  // The server runs as an unprivileged user when the tests run as root: it must be able to reach the project dir.
  chmodSync(dir, 0o755);
  // The apps import pg, which resolves from the repository's node_modules when the demo runs in place.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const env = testEnv({ PATH: pathWithoutPostgres() });
  const cli = (args: string[], timeoutMs = 180_000) => runCli(args, { cwd: dir, env, timeoutMs });
  /** The instances' own last lines and the daemon's last events, for a failure message. */
  const diagnose = (): string => {
    const logs = join(dir, '.machineroom', 'logs');
    const tail = (file: string, n: number) => {
      try {
        return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
      } catch {
        return '(none)';
      }
    };
    const files = existsSync(logs) ? readdirSync(logs).filter((f) => /^(alpha|beta|database)/.test(f)) : [];
    return [...files.map((f) => `--- ${f}\n${tail(join(logs, f), 15)}`), `--- events\n${tail(join(dir, '.machineroom', 'events.jsonl'), 40)}`].join('\n');
  };

  const up = await cli(['up', '-d', '--wait']);
  assert.equal(up.code, 0, `up failed:\n${up.stdout}\n${up.stderr}\n${diagnose()}`);
  const record = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { httpPort: number; apiPort: number };
  const port = record.httpPort;
  const alpha = `alpha.localhost:${port}`;
  const beta = `beta.localhost:${port}`;

  // The embedded server, not the system's: ask it through the URL the CLI gives.
  const url = (await cli(['db', 'url', 'database'])).stdout.trim();
  assert.match(url, /^postgres:\/\/host_count:[^@]+@127\.[0-9.]+:5432\/host_count$/);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const version = (await client.query<{ version: string }>('select version()')).rows[0]!.version;
    assert.match(version, /^PostgreSQL 18\./, version);
  } finally {
    await client.end();
  }

  // KV holds the connection details (the prototype's postgres/host_count/username and password).
  const kv = async (key: string) => {
    const res = await fetch(`http://127.0.0.1:${record.apiPort}/v1/kv/${key}?raw`);
    return res.status === 200 ? await res.text() : undefined;
  };
  assert.equal(await kv('postgres/host_count/username'), 'host_count');
  assert.equal(await kv('postgres/host_count/port'), '5432');
  assert.ok((await kv('postgres/host_count/password'))?.length, 'a generated password is published');

  // N requests sum to N, spread over both replicas.
  const counts = async (): Promise<Counts> => {
    const r = await get(port, alpha);
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body) as Counts;
  };
  const N = 40;
  let last: Counts | undefined;
  for (let i = 0; i < N; i++) last = await counts();
  assert.equal(last!.total, N);
  assert.deepEqual(last!.counts.map((c) => c.hostname).sort(), ['alpha-1', 'alpha-2']);
  assert.equal(last!.counts.reduce((s, c) => s + c.count, 0), N);
  const html = await new Promise<Answer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: alpha, accept: 'text/html' }, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(html.status, 200);
  assert.match(html.body, /alpha-1/);

  // scale alpha=4: four hosts appear.
  assert.equal((await cli(['scale', 'alpha=4'])).code, 0);
  await waitFor('four alpha hosts in the table', async () => {
    const c = await counts();
    return c.counts.length === 4 ? c : undefined;
  }, 90_000, 100);

  // A wrong password through beta: alpha reports a credential error; set back, it recovers without a restart.
  const password = (await kv('postgres/host_count/password'))!;
  const setPassword = (value: string) => get(port, beta, '/api/credentials', 'PUT', JSON.stringify({ password: value }));
  assert.equal((await setPassword('not-the-password')).status, 200);
  const refused = await waitFor('alpha reports the credential error', async () => {
    const r = await get(port, alpha);
    return r.status === 503 ? r : undefined;
  }, 30_000, 100);
  assert.match(refused.body, /credential|password/i);
  assert.match(refused.body, /host_count/);
  // alpha's check asks the database: it turns critical on the bus with the reason, and passing again once fixed.
  const alphaChecks = async () => (await (await fetch(`http://127.0.0.1:${record.apiPort}/v1/health/checks/alpha`)).json()) as { Status: string; Output: string }[];
  const critical = await waitFor('alpha checks critical', async () => {
    const checks = await alphaChecks();
    return checks.length === 4 && checks.every((c) => c.Status === 'critical') ? checks : undefined;
  }, 30_000, 100);
  assert.match(critical[0]!.Output, /credentials/);
  assert.equal((await setPassword(password)).status, 200);
  await waitFor('alpha recovers with the right password', async () => (await get(port, alpha)).status === 200, 30_000, 100);
  await waitFor('alpha checks passing again', async () => (await alphaChecks()).every((c) => c.Status === 'passing'), 30_000, 100);
  const pids = (await cli(['ps', '--json'])).stdout;
  assert.ok(!/"restarts":\s*[1-9]/.test(JSON.stringify((JSON.parse(pids) as { instances: { service: string; restarts: number }[] }).instances.filter((i) => i.service === 'alpha'))), 'alpha was not restarted');

  // What the database's last start said of its provisioning (events since `since`).
  const provisioning = (since: number): string[] =>
    readFileSync(join(dir, '.machineroom', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ts: number; message: string })
      .filter((e) => e.ts >= since && / ready; databases /.test(e.message))
      .map((e) => e.message);

  // down then up keeps the counts, and provisioning is skipped: nothing changed since the last one (the owner's login
  // proves the database usable).
  const before = (await counts()).total;
  assert.equal((await cli(['down'])).code, 0);
  const upAgainAt = Date.now();
  const again = await cli(['up', '-d', '--wait']);
  assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}\n${diagnose()}`);
  const port2 = (JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { httpPort: number }).httpPort;
  const after2 = await waitFor('alpha answers after up', async () => {
    const r = await get(port2, `alpha.localhost:${port2}`);
    return r.status === 200 ? (JSON.parse(r.body) as Counts) : undefined;
  }, 60_000, 100);
  assert.equal(after2.total, before + 1, 'the counts survived down/up');
  assert.match(provisioning(upAgainAt).join('\n'), /databases host_count \(as provisioned before\)/, 'an unchanged database is not provisioned again');
  const counts2 = async () => {
    const r = await waitFor('alpha answers', async () => {
      const a = await get(port2, `alpha.localhost:${port2}`);
      return a.status === 200 ? a : undefined;
    }, 60_000, 100);
    return JSON.parse(r.body) as Counts;
  };

  // Snapshot, more requests, restore: back to the snapshot's counts.
  const snapshotFile = join(dir, 'snap.tar.gz');
  const atSnapshot = (await counts2()).total;
  const snap = await cli(['db', 'snapshot', 'database', snapshotFile]);
  assert.equal(snap.code, 0, snap.stderr);
  for (let i = 0; i < 5; i++) await counts2();
  const restoreAt = Date.now();
  const restore = await cli(['db', 'restore', 'database', snapshotFile]);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal((await counts2()).total, atSnapshot + 1, 'restore brought back the snapshot');
  assert.deepEqual(
    provisioning(restoreAt).map((m) => m.replace(/^.*ready; /, '')),
    ['databases host_count'],
    'restored data is provisioned in full (the record of the last provisioning described the data before)',
  );

  // db reset empties the table.
  const resetAt = Date.now();
  const reset = await cli(['db', 'reset', 'database']);
  assert.equal(reset.code, 0, reset.stderr);
  assert.equal((await counts2()).total, 1, 'after reset only this request is counted');
  assert.ok(provisioning(resetAt).some((m) => m.endsWith('databases host_count (created)')), `a reset cluster is provisioned from scratch: ${provisioning(resetAt).join(' | ')}`);

  // SIGKILL the postmaster: critical on the bus, alpha answers 503 quickly, the supervisor restarts it with its data.
  for (let i = 0; i < 3; i++) await counts2();
  const status = JSON.parse((await cli(['ps', '--json'])).stdout) as { instances: { name: string; pid?: number }[] };
  const pgPid = status.instances.find((i) => i.name === 'database.1')?.pid;
  assert.ok(pgPid, 'database.1 has a pid');
  const api = (JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { apiPort: number }).apiPort;
  let sawCritical = false;
  let saw503: Answer | undefined;
  let watching = true;
  const watchBus = (async () => {
    while (watching && !sawCritical) {
      const checks = (await (await fetch(`http://127.0.0.1:${api}/v1/health/checks/database`)).json()) as { Status: string }[];
      if (checks.some((c) => c.Status === 'critical')) sawCritical = true;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const watchAlpha = (async () => {
    while (watching && !saw503) {
      const began = Date.now();
      const r = await get(port2, `alpha.localhost:${port2}`);
      assert.ok(Date.now() - began < 8000, 'alpha answered without hanging');
      if (r.status === 503) saw503 = r;
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  process.kill(pgPid!, 'SIGKILL');
  await waitFor('the bus shows database critical and alpha answers 503', () => sawCritical && saw503 !== undefined, 30_000, 50).finally(() => {
    watching = false;
  });
  await Promise.all([watchBus, watchAlpha]);
  assert.match(saw503!.body, /database/i);
  const recovered = await counts2();
  assert.ok(recovered.total >= 5, `the data survived the SIGKILL (total ${recovered.total})`);
  const ps = JSON.parse((await cli(['ps', '--json'])).stdout) as { instances: { name: string; restarts: number; pid?: number }[] };
  const db = ps.instances.find((i) => i.name === 'database.1')!;
  assert.ok(db.restarts >= 1 && db.pid !== pgPid, 'the supervisor restarted Postgres');

  assert.equal((await cli(['down', '--volumes'])).code, 0);
  assert.equal(existsSync(join(dir, '.machineroom', 'data', 'postgres')), false, 'down --volumes removed the data');
  rmSync(snapshotFile, { force: true });
});
