// The seed demo's apps against real parts: a bus (`machineroom agent`), a real PostgreSQL (Debian's binaries, run as
// nobody when the tests run as root), two alphas and a beta as plain processes on free ports. alpha counts requests
// per host in Postgres with credentials read from KV, follows KV live (wrong password, keys deleted, fixed again)
// without a restart, and answers a clear 503 — never a hang — when the database is down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT, startCli, testEnv, waitFor } from '../support/cli.js';
import { freePort } from '../support/ports.js';

const DEMO = join(ROOT, 'examples', 'seed-demo');
const PREFIX = 'postgres/host_count/';
const RIGHT = 'app-pass-right-1';
const WRONG = 'app-pass-wrong-2';

/** Debian's PostgreSQL binaries (the newest installed), or PG_BIN. */
function findPgBin(): string | undefined {
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  if (process.env.PG_BIN) return has(process.env.PG_BIN) ? process.env.PG_BIN : undefined;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(base, v, 'bin')).find(has);
}

const pgBin = findPgBin();
const isRoot = process.getuid?.() === 0;
const hasSetpriv = !isRoot || spawnSync('setpriv', ['--version']).status === 0;
// Under CI a missing PostgreSQL fails the file (in before()) instead of skipping it.
const skip = (pgBin && hasSetpriv) || process.env.CI === 'true' ? false : `no PostgreSQL binaries${isRoot ? ' or setpriv' : ''} (install postgresql, or set PG_BIN)`;

/** PostgreSQL refuses to run as root: as root, run its binaries as nobody. */
function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  return isRoot ? ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', cmd, ...args]] : [cmd, args];
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Proc {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

const running = (p: Proc | undefined): boolean => p !== undefined && p.child.exitCode === null && p.child.signalCode === null;

async function stopProc(p: Proc | undefined, signal: NodeJS.Signals, graceMs: number): Promise<number | null | undefined> {
  if (!p || !running(p)) return p?.child.exitCode;
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}

/** A throwaway PostgreSQL cluster: a data dir owned by the user it runs as, TCP on 127.0.0.1, a socket in its dir. */
class Postgres {
  proc: Proc | undefined;
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  init(): void {
    if (isRoot) chownSync(this.dir, 65534, 65534);
    const [cmd, args] = asPostgresUser(join(pgBin!, 'initdb'), ['-D', join(this.dir, 'data'), '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync']);
    const r = spawnSync(cmd, args, { cwd: this.dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`initdb failed (${r.status}): ${r.stderr}${r.stdout}`);
  }

  async start(): Promise<void> {
    // Lean settings for a test on a shared two-core machine: nothing here needs to survive a power cut.
    const settings = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'shared_buffers=16MB', 'max_connections=30', 'autovacuum=off', 'wal_level=minimal', 'max_wal_senders=0'];
    const [cmd, args] = asPostgresUser(join(pgBin!, 'postgres'), ['-D', join(this.dir, 'data'), '-p', String(this.port), '-h', '127.0.0.1', '-k', this.dir, ...settings.flatMap((s) => ['-c', s])]);
    this.proc = run(cmd, args, { cwd: this.dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' } });
    await waitFor(`PostgreSQL to accept connections on port ${this.port}`, async () => {
      if (!running(this.proc)) throw new Error(`postgres exited: ${this.proc?.output()}`);
      await this.query('postgres', 'postgres', 'SELECT 1');
      return true;
    }, 30_000, 100);
  }

  /** SIGINT is PostgreSQL's fast shutdown: sessions are ended, the server stops at once. */
  stop(): Promise<unknown> {
    return stopProc(this.proc, 'SIGINT', 15_000);
  }

  /** Runs SQL over the Unix socket (trust), as `user` in `database`. */
  async query(database: string, user: string, sql: string): Promise<pg.QueryResult> {
    const client = new pg.Client({ host: this.dir, port: this.port, user, database, connectionTimeoutMillis: 3000 });
    client.on('error', () => {});
    try {
      await client.connect();
      return await client.query(sql);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

interface App extends Proc {
  name: string;
  url: string;
  pid: number;
}

async function startApp(kind: 'alpha' | 'beta', machine: string, bus: string): Promise<App> {
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOST: '127.0.0.1', PORT: String(port), MR_MACHINE: machine, MR_SERVICE: kind, CONSUL_HTTP_ADDR: bus };
  const proc = run(process.execPath, ['server.js'], { cwd: join(DEMO, kind), env });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${machine} to answer /health`, async () => {
    if (!running(proc)) throw new Error(`${machine} exited: ${proc.output()}`);
    const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return r.status === 200 && (await r.text()) === 'ok';
  }, 20_000, 100);
  return { ...proc, name: machine, url, pid: proc.child.pid! };
}

let work = '';
let db: Postgres;
let agent: Proc | undefined;
let bus = '';
let busAddr = '';
let alphas: App[] = [];
let beta: App | undefined;
/** Requests each alpha answered 200 to /, as the test saw them: the table must say the same. */
const served = new Map<string, number>();

interface Answer {
  status: number;
  type: string;
  text: string;
  json: any;
  ms: number;
}

/** One request to alpha's / (JSON unless asked otherwise); a 200 is counted in `served`. */
async function ask(app: App, opts: { path?: string; accept?: string } = {}): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${app.url}${opts.path ?? '/'}`, { headers: opts.accept === undefined ? {} : { accept: opts.accept }, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  if (res.status === 200 && (opts.path ?? '/').split('?')[0] === '/') served.set(app.name, (served.get(app.name) ?? 0) + 1);
  return { status: res.status, type, text, json: type.startsWith('application/json') ? JSON.parse(text) : undefined, ms: Date.now() - started };
}

const askJson = (app: App) => ask(app, { accept: 'application/json' });

async function kvPut(key: string, value: string): Promise<void> {
  const r = await fetch(`${bus}/v1/kv/${key}`, { method: 'PUT', body: value });
  assert.equal(r.status, 200, `PUT /v1/kv/${key}`);
}

async function kvGet(key: string): Promise<string | undefined> {
  const r = await fetch(`${bus}/v1/kv/${key}`);
  if (r.status === 404) return undefined;
  const [entry] = (await r.json()) as { Value: string | null }[];
  return Buffer.from(entry!.Value ?? '', 'base64').toString();
}

async function betaApi(method: string, body?: string): Promise<{ status: number; json: any }> {
  const r = await fetch(`${beta!.url}/api/credentials`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(10_000) });
  return { status: r.status, json: await r.json() };
}

/** Every alpha answers with `status` and the error `code` (polled: alpha follows KV through a blocking query). */
async function allAlphasSay(status: number, code?: string): Promise<Answer[]> {
  return waitFor(`every alpha to answer ${status}${code ? ` ${code}` : ''}`, async () => {
    const answers = await Promise.all(alphas.map(askJson));
    const ok = answers.every((a) => a.status === status && (code === undefined || a.json?.error?.code === code));
    if (!ok) throw new Error(answers.map((a) => `${a.status} ${a.text.trim()}`).join(' | '));
    return answers;
  }, 15_000, 100);
}

let agents = 0;
/** Starts `machineroom agent` with a fresh data dir of its own (in `work`, so a SIGKILL leaves nothing behind) and returns its HTTP address. */
async function startAgent(http: string): Promise<string> {
  agents += 1;
  const cli = startCli(['agent', '--http', http, '--dns', '127.0.0.1:0', '--data-dir', join(work, `bus-${agents}`)], { cwd: work, env: testEnv() });
  agent = { ...cli, exited: new Promise((resolve) => cli.child.once('exit', (code) => resolve(code))) };
  const m = await waitFor('the agent to print its HTTP address', () => {
    if (!running(agent)) throw new Error(`the agent exited: ${agent!.output()}`);
    return /HTTP +http:\/\/(127\.0\.0\.1:\d+)/.exec(agent!.output());
  }, 30_000);
  bus = `http://${m[1]}`;
  return m[1]!;
}

const sumServed = () => [...served.values()].reduce((a, b) => a + b, 0);

before(async () => {
  if (skip) return;
  if (!pgBin) throw new Error('CI=true and no PostgreSQL binaries found under /usr/lib/postgresql/*/bin (or PG_BIN): install postgresql');
  if (!hasSetpriv) throw new Error('CI=true and running as root without setpriv: PostgreSQL refuses to run as root');
  work = mkdtempSync(join(tmpdir(), 'mr-seed-apps-'));
  db = new Postgres(work, await freePort());
  db.init();
  await db.start();
  // What machineroom's postgres resource does on creation: a role and a database it owns, the table made as the owner.
  await db.query('postgres', 'postgres', `CREATE ROLE app LOGIN PASSWORD '${RIGHT}'`);
  await db.query('postgres', 'postgres', 'CREATE DATABASE host_count OWNER app');
  await db.query('host_count', 'app', readFileSync(join(DEMO, 'sql', 'host_count.sql'), 'utf8'));

  busAddr = await startAgent('127.0.0.1:0');

  // The keys the postgres resource publishes, before alpha starts: alpha reads them at start.
  for (const [k, v] of Object.entries({ host: '127.0.0.1', port: String(db.port), database: 'host_count', username: 'app', password: RIGHT })) await kvPut(PREFIX + k, v);
  alphas = await Promise.all([startApp('alpha', 'alpha-1', busAddr), startApp('alpha', 'alpha-2', busAddr)]);
  beta = await startApp('beta', 'beta-1', busAddr);
});

after(async () => {
  await Promise.all([...alphas, beta].map((p) => stopProc(p, 'SIGTERM', 3000)));
  await stopProc(agent, 'SIGINT', 5000);
  await db?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('alpha reads its database settings from KV at start and counts every request per host in Postgres', { skip }, async () => {
  const [a1, a2] = alphas as [App, App];
  for (let i = 0; i < 3; i++) assert.equal((await askJson(a1)).status, 200);
  for (let i = 0; i < 2; i++) assert.equal((await ask(a1, { path: '/?format=json', accept: 'text/html' })).status, 200, '?format=json wins over Accept');
  // curl's default (Accept: */*) and no Accept header at all get JSON.
  const star = await ask(a2, { accept: '*/*' });
  assert.equal(star.status, 200, star.text);
  assert.match(star.type, /^application\/json/);
  const last = await ask(a2);
  assert.match(last.type, /^application\/json/);
  assert.deepEqual(last.json, { host: 'alpha-2', counts: [{ hostname: 'alpha-1', count: 5 }, { hostname: 'alpha-2', count: 2 }], total: 7 });

  // Concurrent requests to both: every one is counted once, and the table's total is the number of requests.
  const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => askJson(alphas[i % 2]!)));
  assert.ok(burst.every((a) => a.status === 200), burst.map((a) => a.status).join(','));
  const after1 = await askJson(a1);
  assert.equal(after1.json.host, 'alpha-1');
  assert.equal(after1.json.total, sumServed());
  assert.deepEqual(after1.json.counts, [{ hostname: 'alpha-1', count: served.get('alpha-1') }, { hostname: 'alpha-2', count: served.get('alpha-2') }]);
  const rows = await db.query('host_count', 'postgres', 'SELECT hostname, count FROM host_count ORDER BY hostname');
  assert.deepEqual(rows.rows, after1.json.counts, 'the table in Postgres is what alpha shows');

  // /health and /ready do not count; neither does anything else.
  assert.equal((await ask(a1, { path: '/health' })).text, 'ok');
  assert.equal((await ask(a1, { path: '/ready' })).text, 'ready');
  const missing = await ask(a1, { path: '/favicon.ico' });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, 'ERR_NOT_FOUND');
  assert.equal((await askJson(a2)).json.total, sumServed());
});

test('a browser gets an HTML page with the table and the host that answered', { skip }, async () => {
  const page = await ask(alphas[1]!, { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
  assert.equal(page.status, 200);
  assert.match(page.type, /^text\/html/);
  assert.match(page.text, /<table>/);
  assert.match(page.text, /Answered by <strong>alpha-2<\/strong>/);
  assert.match(page.text, /<tr class="here"><td>alpha-2 <span class="muted">\(this one\)<\/span><\/td><td class="n">(\d+)<\/td><\/tr>/);
  assert.equal(Number(/alpha-2 <span[^>]*>\(this one\)<\/span><\/td><td class="n">(\d+)/.exec(page.text)![1]), served.get('alpha-2'));
  assert.match(page.text, new RegExp(`<td>Total</td><td class="n">${sumServed()}</td>`));
  assert.doesNotMatch(page.text, /<(script|link|img)\b/, 'no external resources');
  const forced = await ask(alphas[0]!, { path: '/?format=html' });
  assert.match(forced.type, /^text\/html/);
  assert.match(forced.text, /Answered by <strong>alpha-1<\/strong>/);
});

test('beta shows the credentials from KV (the password masked) and refuses bad input with 400', { skip }, async () => {
  const page = await fetch(`${beta!.url}/`, { headers: { accept: 'text/html' } });
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(html, /<dd id="username">app<\/dd>/);
  assert.match(html, /<dd id="password">••••••••<\/dd>/);
  assert.ok(!html.includes(RIGHT), 'the page never carries the password');
  assert.doesNotMatch(html, /<(link|img)\b|<script src/, 'inline CSS and JS only');
  assert.deepEqual((await betaApi('GET')).json, { username: 'app', passwordSet: true });

  for (const [body, message] of [
    ['{"username": "app", "password"', /request body is not valid JSON/],
    ['', /request body is empty/],
    ['[1]', /expected a JSON object/],
    ['{}', /nothing to set/],
    ['{"username": "  "}', /"username" must not be empty/],
    ['{"password": ""}', /"password" must not be empty/],
    ['{"password": 42}', /"password" must be a string/],
    ['{"user": "app"}', /unknown field "user"/],
  ] as const) {
    const r = await betaApi('PUT', body);
    assert.equal(r.status, 400, `${body} → ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error.code, 'ERR_BAD_REQUEST');
    assert.match(r.json.error.message, message);
  }
  assert.equal(await kvGet(`${PREFIX}password`), RIGHT, 'a refused request changes nothing');
  assert.equal((await fetch(`${beta!.url}/health`)).status, 200);
});

test('a wrong password set in beta makes alpha answer 503 naming the rejected credentials; the right one brings it back without a restart', { skip }, async () => {
  const set = await betaApi('PUT', JSON.stringify({ password: WRONG }));
  assert.equal(set.status, 200, JSON.stringify(set.json));
  assert.deepEqual(set.json, { username: 'app', passwordSet: true });
  assert.equal(await kvGet(`${PREFIX}password`), WRONG, 'beta wrote the key through the bus');

  const rejected = await allAlphasSay(503, 'ERR_CREDENTIALS_REJECTED');
  for (const a of rejected) assert.match(a.json.error.message, /^database rejected the credentials for user app: password authentication failed for user "app"/);
  const page = await ask(alphas[0]!, { accept: 'text/html' });
  assert.equal(page.status, 503);
  assert.match(page.type, /^text\/html/);
  assert.match(page.text, /database rejected the credentials for user app/);
  assert.match(page.text, /ERR_CREDENTIALS_REJECTED/);
  const ready = await ask(alphas[0]!, { path: '/ready' });
  assert.equal(ready.status, 503);
  assert.equal((await ask(alphas[0]!, { path: '/health' })).status, 200, '/health stays up: the front door keeps sending traffic to alpha\'s error page');

  assert.equal((await betaApi('PUT', JSON.stringify({ username: 'app', password: RIGHT }))).status, 200);
  await allAlphasSay(200);
  for (const a of alphas) {
    assert.ok(running(a) && a.child.pid === a.pid, `${a.name} was not restarted`);
    assert.match(a.output(), /credentials changed: user=app, reconnecting/);
  }
  assert.equal((await askJson(alphas[0]!)).json.total, sumServed());
});

test('deleting the KV credentials makes alpha answer 503 "not set"; setting them in beta brings it back', { skip }, async () => {
  const cleared = await betaApi('DELETE');
  assert.equal(cleared.status, 200);
  assert.deepEqual(cleared.json, { username: null, passwordSet: false });
  const answers = await allAlphasSay(503, 'ERR_CREDENTIALS_NOT_SET');
  for (const a of answers) assert.equal(a.json.error.message, 'database credentials are not set: KV postgres/host_count/username and password are missing (set them in beta)');
  const page = await ask(alphas[1]!, { accept: 'text/html' });
  assert.equal(page.status, 503);
  assert.match(page.text, /database credentials are not set/);
  assert.match(page.text, /Set the username and password on the beta page/);

  const username = await betaApi('PUT', JSON.stringify({ username: 'app' }));
  assert.deepEqual(username.json, { username: 'app', passwordSet: false });
  const half = await allAlphasSay(503, 'ERR_CREDENTIALS_NOT_SET');
  assert.equal(half[0]!.json.error.message, 'database credentials are not set: KV postgres/host_count/password is missing (set it in beta)');

  assert.deepEqual((await betaApi('POST', JSON.stringify({ password: RIGHT }))).json, { username: 'app', passwordSet: true });
  await allAlphasSay(200);
  assert.equal((await askJson(alphas[1]!)).json.total, sumServed());
});

test('a stopped database is "unreachable" within seconds (no hang), and alpha recovers when it is back', { skip }, async () => {
  await db.stop();
  const down = await allAlphasSay(503, 'ERR_DATABASE_UNREACHABLE');
  for (const a of down) assert.match(a.json.error.message, new RegExp(`^database unreachable at 127\\.0\\.0\\.1:${db.port}: `));
  // Every answer while it is down is quick: a refused connection is reported, not waited on.
  for (let i = 0; i < 3; i++) {
    for (const app of alphas) {
      const a = await askJson(app);
      assert.equal(a.status, 503);
      assert.ok(a.ms < 5000, `answered in ${a.ms} ms`);
    }
  }
  const page = await ask(alphas[0]!, { accept: 'text/html' });
  assert.equal(page.status, 503);
  assert.match(page.text, /database unreachable at 127\.0\.0\.1/);
  assert.ok(alphas.every(running), 'alpha survived its connections being cut');

  await db.start();
  await allAlphasSay(200);
  const rows = await db.query('host_count', 'postgres', 'SELECT sum(count)::int AS total FROM host_count');
  assert.equal(rows.rows[0].total, sumServed(), 'no request lost or counted twice');
  assert.equal((await askJson(alphas[1]!)).json.total, sumServed());
});

test('while the bus is down alpha keeps its last settings and beta answers 502; a new bus is followed at once', { skip }, async () => {
  // SIGKILL: the bus crashing (a SIGINT'd agent also waits for open blocking queries before it exits).
  await stopProc(agent, 'SIGKILL', 1000);
  const read = await betaApi('GET');
  assert.equal(read.status, 502);
  assert.equal(read.json.error.code, 'ERR_BUS_UNREACHABLE');
  assert.match(read.json.error.message, /^service bus unreachable at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  const write = await betaApi('PUT', JSON.stringify({ password: WRONG }));
  assert.equal(write.status, 502);
  assert.match(write.json.error.message, /service bus unreachable/);
  const page = await fetch(`${beta!.url}/`);
  assert.match(await page.text(), /service bus unreachable/);
  for (const app of alphas) assert.equal((await askJson(app)).status, 200);
  await waitFor('alpha to notice the bus is gone', () => alphas.every((a) => /service bus unreachable at http:\/\/127\.0\.0\.1:\d+ \(/.test(a.output())), 15_000, 100);

  // A new bus on the same address, empty: its index starts over, and alpha follows what it says.
  await startAgent(busAddr);
  await allAlphasSay(503, 'ERR_CREDENTIALS_NOT_SET');
  for (const [k, v] of Object.entries({ host: '127.0.0.1', port: String(db.port), database: 'host_count' })) await kvPut(PREFIX + k, v);
  assert.equal((await betaApi('PUT', JSON.stringify({ username: 'app', password: RIGHT }))).status, 200);
  await allAlphasSay(200);
  assert.equal((await askJson(alphas[0]!)).json.total, sumServed());
});

test('alpha and beta exit 0 on SIGTERM, and no log line carries a password', { skip }, async () => {
  const codes = await Promise.all([...alphas, beta!].map((p) => stopProc(p, 'SIGTERM', 8000)));
  assert.deepEqual(codes, [0, 0, 0]);
  for (const p of [...alphas, beta!]) {
    const out = p.output();
    assert.match(out, /listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /got SIGTERM, closing/);
    assert.ok(!out.includes(RIGHT) && !out.includes(WRONG), `${p.name} logged a password:\n${out}`);
  }
  assert.match(alphas[0]!.output(), /database settings read from KV: user=app, database host_count at 127\.0\.0\.1:\d+/);
  assert.match(beta!.output(), /set username=app, password in KV postgres\/host_count\//);
});
