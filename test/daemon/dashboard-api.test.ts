// Acceptance (issue 6): the daemon side of the dashboard on a real daemon over real sockets — /ui and its headers (and
// the 503 before a build), the login and its cookie, the session rule on mutations, the SSE stream, KV with
// check-and-set, machineroom.localhost through the front door, and `down` with a stream open.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_JS, cleanupProject, makeProject, runCli, testEnv, waitFor } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import type { InstanceStatus, RoomStatus, ServiceStatus } from '../../src/client/index.js';
import type { KvSnapshot } from '../../src/dashboard-server/index.js';

let dir = '';
let dist = '';
let env: NodeJS.ProcessEnv = {};
let apiPort = 0;
let httpPort = 0;
let token = '';
let cookie = '';
const streams: IncomingMessage[] = [];

before(async () => {
  // The dashboard build is a directory of the test's own: empty first (nothing built), filled by a test.
  dist = mkdtempSync(join(tmpdir(), 'mr-dash-dist-'));
  env = testEnv({ MACHINEROOM_DASHBOARD_DIR: dist });
  const port = await freePort();
  dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml':
      `name: dashtest\nservices:\n  web:\n    command: node server.js\n    port: ${port}\n    health: { http: /health, interval: 500ms }\n` +
      `kv:\n  app/greeting: hello\n  app/secret/password: s3cret\nsecrets: [app/secret]\n`,
  });
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir, env });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const record = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { apiPort: number; httpPort: number };
  apiPort = record.apiPort;
  httpPort = record.httpPort;
  token = readFileSync(join(dir, '.machineroom', 'token'), 'utf8').trim();
  assert.ok(up.stdout.includes(`dashboard http://127.0.0.1:${apiPort}/ui/login?token=${token}`), `up -d prints the dashboard link:\n${up.stdout}`);
});

after(async () => {
  for (const s of streams) s.destroy();
  if (dir) await cleanupProject(dir);
  if (dist) rmSync(dist, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Raw HTTP to a port, so Host, Origin and Cookie are exactly what the test says. */
function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const api = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => call(apiPort, method, path, headers, body);
const origin = () => `http://127.0.0.1:${apiPort}`;

/** An open SSE stream: events as they arrive, parsed. */
function openStream(port: number, path: string, headers: Record<string, string> = {}): Promise<{ events: Array<{ event: string; data: unknown }>; res: IncomingMessage; ended: () => boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      streams.push(res);
      const events: Array<{ event: string; data: unknown }> = [];
      let buf = '';
      let ended = false;
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        for (let at = buf.indexOf('\n\n'); at >= 0; at = buf.indexOf('\n\n')) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name && data !== undefined) events.push({ event: name, data: JSON.parse(data) });
        }
      });
      const end = () => (ended = true);
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      resolve({ events, res, ended: () => ended });
    });
    req.on('error', reject);
    req.end();
  });
}

test('/ui/ says the dashboard is not built (503) until there is a build; then serves it with CSP and nosniff', async () => {
  const missing = await api('GET', '/ui/');
  assert.equal(missing.status, 503);
  assert.match(missing.body, /the dashboard is not built: run npm run build/);

  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>machineroom</title><script type="module" src="/ui/assets/index-abc123.js"></script>');
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'export {};');
  const index = await api('GET', '/ui/');
  assert.equal(index.status, 200);
  assert.match(index.body, /<title>machineroom<\/title>/);
  const csp = String(index.headers['content-security-policy']);
  for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"]) assert.ok(csp.includes(directive), `${directive} in ${csp}`);
  assert.equal(index.headers['x-content-type-options'], 'nosniff');
  assert.equal(index.headers['referrer-policy'], 'no-referrer');
  const asset = await api('GET', '/ui/assets/index-abc123.js');
  assert.equal(asset.status, 200);
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(asset.headers['x-content-type-options'], 'nosniff');
  assert.equal((await api('GET', '/ui')).headers.location, '/ui/');
  assert.equal((await api('GET', '/ui/', { host: 'rebind.attacker.test' })).status, 403, 'DNS-rebinding guard on /ui too');
});

test('login: a wrong token is 401 with no cookie; the right one sets an HttpOnly SameSite=Strict cookie that then works', async () => {
  const wrong = await api('GET', '/ui/login?token=nope');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers['set-cookie'], undefined);
  assert.match(wrong.body, /machineroom dashboard/);

  const ok = await api('GET', `/ui/login?token=${token}`);
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.location, '/ui/');
  const set = ok.headers['set-cookie']?.[0] ?? '';
  assert.match(set, new RegExp(`^mr_session_${apiPort}=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=/$`));
  cookie = set.split(';')[0]!;
  assert.ok(!cookie.includes(token), 'the cookie is not the control token');

  assert.deepEqual(JSON.parse((await api('GET', '/v1/machineroom/session')).body), { authenticated: false });
  assert.deepEqual(JSON.parse((await api('GET', '/v1/machineroom/session', { cookie })).body), { authenticated: true });
  const secret = await api('GET', '/v1/machineroom/kv/app/secret/password', { cookie });
  assert.equal(secret.status, 200, secret.body);
  assert.equal((JSON.parse(secret.body) as { value: string }).value, 's3cret', 'the authenticated GET reveals a secret');
});

test('mutations: no token or cookie is 401; another Origin is 403; the cookie without Origin is 403; with this origin it works', async () => {
  const body = JSON.stringify({ web: 1 });
  const json = { 'content-type': 'application/json' };
  const none = await api('POST', '/v1/machineroom/scale', json, body);
  assert.equal(none.status, 401);
  assert.equal((JSON.parse(none.body) as { code: string }).code, 'ERR_UNAUTHORIZED');
  const foreign = await api('POST', '/v1/machineroom/scale', { ...json, cookie, origin: 'http://evil.example' }, body);
  assert.equal(foreign.status, 403);
  const otherPort = await api('POST', '/v1/machineroom/scale', { ...json, cookie, origin: 'http://127.0.0.1:1' }, body);
  assert.equal(otherPort.status, 403, 'another loopback port is another site');
  const noOrigin = await api('POST', '/v1/machineroom/scale', { ...json, cookie }, body);
  assert.equal(noOrigin.status, 403);
  assert.match((JSON.parse(noOrigin.body) as { message: string }).message, /Origin/);
  const ok = await api('POST', '/v1/machineroom/scale', { ...json, cookie, origin: origin() }, body);
  assert.equal(ok.status, 200, ok.body);
  const viaToken = await api('POST', '/v1/machineroom/scale', { ...json, 'x-machineroom-token': token }, body);
  assert.equal(viaToken.status, 200, 'the CLI (token, no Origin) is unchanged');
});

test('KV: a stale check-and-set is a 409 with the current index; a fresh one writes; without cas it is refused', async () => {
  const read = JSON.parse((await api('GET', '/v1/machineroom/kv/app/greeting', { cookie })).body) as { value: string; modifyIndex: number };
  assert.equal(read.value, 'hello');
  const auth = { cookie, origin: origin() };
  assert.equal((await api('PUT', '/v1/machineroom/kv/app/greeting', auth, 'no cas')).status, 400);
  const wrote = await api('PUT', `/v1/machineroom/kv/app/greeting?cas=${read.modifyIndex}`, auth, 'bonjour');
  assert.equal(wrote.status, 200, wrote.body);
  const now = (JSON.parse(wrote.body) as { modifyIndex: number }).modifyIndex;
  assert.ok(now > read.modifyIndex);
  const stale = await api('PUT', `/v1/machineroom/kv/app/greeting?cas=${read.modifyIndex}`, auth, 'lost update');
  assert.equal(stale.status, 409);
  const conflict = JSON.parse(stale.body) as { error: { code: string; message: string }; current: { modifyIndex: number; value: string } };
  assert.equal(conflict.error.code, 'ERR_CONFLICT');
  assert.match(conflict.error.message, new RegExp(`now at index ${now}`));
  assert.deepEqual(conflict.current, { modifyIndex: now, value: 'bonjour' });
  // The write is where every other client reads it: the bus's own KV API.
  const viaBus = JSON.parse((await api('GET', '/v1/kv/app/greeting')).body) as Array<{ Value: string; ModifyIndex: number }>;
  assert.equal(Buffer.from(viaBus[0]!.Value, 'base64').toString(), 'bonjour');
  assert.equal(viaBus[0]!.ModifyIndex, now);
});

test('the stream delivers hello, status (with checks), traffic, kv (secrets null), events and logs; a KV write arrives as a kv event', async () => {
  const s = await openStream(apiPort, '/v1/machineroom/stream?tail=50');
  assert.match(String(s.res.headers['content-type']), /^text\/event-stream/);
  const has = (name: string) => s.events.some((e) => e.event === name);
  await waitFor('hello, status, traffic, kv, event and log', () => ['hello', 'status', 'traffic', 'kv', 'event', 'log'].every(has), 15_000);
  assert.equal(s.events[0]!.event, 'hello');
  assert.equal((s.events[0]!.data as { authenticated: boolean }).authenticated, false);

  const status = s.events.find((e) => e.event === 'status')!.data as RoomStatus;
  const web1 = status.instances.find((i: InstanceStatus) => i.name === 'web.1')!;
  assert.ok(web1.checks?.some((c) => c.id === 'service:web.1' && c.kind === 'http' && c.status === 'passing'), JSON.stringify(web1.checks));
  const web = status.services.find((x: ServiceStatus) => x.name === 'web')!;
  assert.equal(web.kind, 'service');
  assert.ok(web.urls?.includes(`http://web.localhost:${httpPort}/`), JSON.stringify(web.urls));

  const kv = s.events.find((e) => e.event === 'kv')!.data as KvSnapshot;
  const secret = kv.entries.find((e) => e.key === 'app/secret/password')!;
  assert.equal(secret.secret, true);
  assert.equal(secret.value, null, 'secret values are never in the stream');
  assert.equal(kv.entries.find((e) => e.key === 'app/greeting')!.value, 'bonjour');

  const current = kv.entries.find((e) => e.key === 'app/greeting')!.modifyIndex;
  const wrote = await api('PUT', `/v1/machineroom/kv/app/greeting?cas=${current}`, { 'x-machineroom-token': token }, 'live edit');
  assert.equal(wrote.status, 200, wrote.body);
  await waitFor('a kv event with the new value', () => s.events.some((e) => e.event === 'kv' && (e.data as KvSnapshot).entries.some((x) => x.key === 'app/greeting' && x.value === 'live edit')));
  // A restart shows up live: its events, and a status with the new instance state.
  const restarted = await api('POST', '/v1/machineroom/restart', { 'content-type': 'application/json', 'x-machineroom-token': token }, JSON.stringify({ target: 'web.1' }));
  assert.equal(restarted.status, 200, restarted.body);
  await waitFor('a live restart event', () => s.events.some((e) => e.event === 'event' && /web\.1 (stopping|stopped)/.test((e.data as { message: string }).message)), 15_000);
  s.res.destroy();
});

test('machineroom.localhost on the front door reaches the control API (the session endpoint, login, the stream)', async () => {
  const host = `machineroom.localhost:${httpPort}`;
  const anon = await call(httpPort, 'GET', '/v1/machineroom/session', { host });
  assert.equal(anon.status, 200, anon.body);
  assert.deepEqual(JSON.parse(anon.body), { authenticated: false });
  const login = await call(httpPort, 'GET', `/ui/login?token=${token}`, { host });
  assert.equal(login.status, 303);
  const set = login.headers['set-cookie']?.[0] ?? '';
  assert.match(set, new RegExp(`^mr_session_${httpPort}=`), 'the cookie is named after the port the browser used');
  const signed = await call(httpPort, 'GET', '/v1/machineroom/session', { host, cookie: set.split(';')[0]! });
  assert.deepEqual(JSON.parse(signed.body), { authenticated: true });
  assert.equal((await call(httpPort, 'GET', '/ui/', { host })).status, 200);
  const s = await openStream(httpPort, '/v1/machineroom/stream?tail=0', { host });
  await waitFor('hello through the front door', () => s.events.some((e) => e.event === 'hello'));
  s.res.destroy();
  // The route index moved to the front door's own name.
  const index = await call(httpPort, 'GET', '/', { host: `localhost:${httpPort}` });
  assert.equal(index.status, 200);
  assert.match(index.body, /web\.localhost/);
});

test('the dashboard verb prints the link; down returns with a stream open, and the stream ends', async () => {
  const printed = await runCli(['dashboard', '--json'], { cwd: dir, env });
  assert.equal(printed.code, 0, printed.stderr);
  const out = JSON.parse(printed.stdout) as { url: string; frontDoorUrl: string };
  assert.equal(out.url, `http://127.0.0.1:${apiPort}/ui/login?token=${token}`);
  assert.equal(out.frontDoorUrl, `http://machineroom.localhost:${httpPort}/ui/login?token=${token}`);
  const again = await runCli(['up', '-d'], { cwd: dir, env });
  assert.equal(again.code, 0, again.stderr);
  assert.ok(again.stdout.includes(`dashboard http://127.0.0.1:${apiPort}/ui/login?token=${token}`), `up -d on a running project prints the link too:\n${again.stdout}`);

  const s = await openStream(apiPort, '/v1/machineroom/stream?tail=0');
  await waitFor('the stream to start', () => s.events.some((e) => e.event === 'status'));
  const down = await runCli(['down'], { cwd: dir, env, timeoutMs: 60_000 });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  await waitFor('the stream to end', () => s.ended());
  const notUp = await runCli(['dashboard'], { cwd: dir, env });
  assert.equal(notUp.code, 1);
  assert.match(notUp.stderr, /is not up; start it with `machineroom up`/);
});
