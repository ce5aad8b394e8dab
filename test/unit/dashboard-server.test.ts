// Unit: the dashboard's server side in-process, over a real bus (catalog store, durable KV) and a fake machine room:
// the session cookie, /ui files and headers, KV check-and-set through the control API, and the SSE stream (order,
// coalescing, secrets masked, back-pressure, ending on disconnect and on close).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createControlApi } from '../../src/daemon/index.js';
import { TOKEN_HEADER } from '../../src/client/index.js';
import type { DaemonInfo, MachineRoom, RoomStatus } from '../../src/client/index.js';
import { DASHBOARD_CSP, NOT_BUILT_MESSAGE, createDashboardServer, sessionCookieName, sessionValue } from '../../src/dashboard-server/index.js';
import type { DashboardServer, KvSnapshot } from '../../src/dashboard-server/index.js';
import type { LogLine, MachineroomEvent } from '../../src/supervisor/index.js';
import { openTestBus } from '../bus/support.js';
import type { TestBus } from '../bus/support.js';
import { waitFor } from './wait-for.js';

const TOKEN = 'c0ffee-token-for-tests';
const HOST = '127.0.0.1:47100';
const ORIGIN = `http://${HOST}`;
const VERSION = '9.9.9-test';
const INFO: DaemonInfo = { version: VERSION, pid: 1, project: 'demo', projectId: 'demo-1', projectDir: '/tmp/demo', apiUrl: ORIGIN, startedAt: new Date(0).toISOString(), machineMode: 'port', secrets: ['app/secret'] };

let dir = '';
let dist = '';
let bus: TestBus;
let dashboard: DashboardServer;
let handler: ReturnType<typeof createControlApi>;
/** Bumped to make the fake room's status differ. */
let statusVersion = 0;
let statusCalls = 0;
/** Log lines the fake room's follower handed out, and whether its followers were all let go. */
let logsPulled = 0;
let logFollowers = 0;
/** When set, the fake room's log follower yields forever (back-pressure test). */
let floodLogs = false;

const events: MachineroomEvent[] = [
  { seq: 1, ts: 1, type: 'daemon', level: 'info', message: 'daemon up' },
  { seq: 2, ts: 2, type: 'started', level: 'info', service: 'web', instance: 'web.1', message: 'web.1 started' },
];

function fakeRoom(): Pick<MachineRoom, 'info' | 'status' | 'traffic' | 'logs' | 'events'> {
  return {
    info: async () => INFO,
    status: async (): Promise<RoomStatus> => {
      statusCalls++;
      return { info: INFO, services: [{ name: 'web', desired: statusVersion, build: 'none', stopped: false }], instances: [] };
    },
    traffic: async () => ({ url: 'http://localhost:8080', routes: [], addresses: [], instances: [] }),
    async *logs(filter, signal) {
      logFollowers++;
      try {
        const tail = filter.tail ?? 0;
        for (let i = 0; i < Math.min(tail, 3); i++) {
          logsPulled++;
          yield { ts: i, source: 'web.1', service: 'web', stream: 'stdout', text: `line ${i}` } satisfies LogLine;
        }
        while (floodLogs && !signal?.aborted) {
          logsPulled++;
          yield { ts: Date.now(), source: 'web.1', service: 'web', stream: 'stdout', text: `flood ${logsPulled}` } satisfies LogLine;
        }
        if (!signal?.aborted) await new Promise<void>((r) => signal?.addEventListener('abort', () => r(), { once: true }));
      } finally {
        logFollowers--;
      }
    },
    async *events(_opts, signal) {
      for (const e of events) yield e;
      if (!signal?.aborted) await new Promise<void>((r) => signal?.addEventListener('abort', () => r(), { once: true }));
    },
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mr-dash-unit-'));
  dist = join(dir, 'dist');
  mkdirSync(dist);
  bus = await openTestBus(join(dir, 'bus'));
  await bus.data.kv.set('app/greeting', Buffer.from('hello'));
  await bus.data.kv.set('app/secret/pw', Buffer.from('s3cret'));
  await bus.data.kv.set('app/blob', Buffer.from([0xff, 0xfe, 0x00, 0x81]));
  dashboard = createDashboardServer({
    room: fakeRoom(),
    token: TOKEN,
    version: VERSION,
    kv: bus.data.kv,
    store: bus.store,
    events: { subscribe: () => () => undefined },
    secrets: () => INFO.secrets,
    dir: dist,
    timing: { coalesceMs: 20, sampleMs: 60_000, heartbeatMs: 50 },
  });
  handler = createControlApi({ room: fakeRoom() as MachineRoom, token: TOKEN, version: VERSION, hasSession: (req) => dashboard.hasSession(req), routes: dashboard.routes });
});

after(async () => {
  dashboard?.close();
  await bus?.data.close();
  rmSync(dir, { recursive: true, force: true });
});

const cookie = `${sessionCookieName(new Request(ORIGIN, { headers: { host: HOST } }))}=${sessionValue(TOKEN)}`;

function api(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array; signal?: AbortSignal } = {}): Promise<Response> {
  const req = new Request(`${ORIGIN}/v1/machineroom/${path}`, {
    method: init.method ?? 'GET',
    headers: { host: HOST, ...(init.headers ?? {}) },
    ...(init.body !== undefined ? { body: init.body } : {}),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  return handler(req, { remoteAddress: '127.0.0.1' });
}

function ui(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return dashboard.handleUi(new Request(`${ORIGIN}${path}`, { headers: { host: HOST, ...headers } }));
}

/** Reads SSE events off a Response body until `done` says so (or the deadline passes: then it cancels and throws). */
function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let ended = false;
  const seen: Array<{ event: string; data: unknown }> = [];
  const comments: string[] = [];
  const parse = () => {
    for (let at = buf.indexOf('\n\n'); at >= 0; at = buf.indexOf('\n\n')) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + 2);
      let event = '';
      let data: unknown;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments.push(line);
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data = JSON.parse(line.slice(6));
        else if (line.startsWith('retry: ')) event = 'retry';
      }
      if (event) seen.push({ event, data });
    }
  };
  return {
    seen,
    comments,
    get ended() {
      return ended;
    },
    async until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
      const timer = setTimeout(() => void reader.cancel(), timeoutMs);
      try {
        while (!done()) {
          const { done: end, value } = await reader.read();
          if (end) {
            ended = true;
            break;
          }
          buf += decoder.decode(value, { stream: true });
          parse();
        }
      } finally {
        clearTimeout(timer);
      }
      if (!done()) throw new Error(`stream ended or timed out before ${what}; saw ${seen.map((s) => s.event).join(', ')}`);
    },
    cancel: () => reader.cancel(),
  };
}

test('the session value is an HMAC of the token, never the token; the cookie is named after the Host port', () => {
  const value = sessionValue(TOKEN);
  assert.match(value, /^[0-9a-f]{64}$/);
  assert.ok(!value.includes(TOKEN));
  assert.notEqual(sessionValue('another-token'), value);
  const name = (host: string, proto?: string) => sessionCookieName(new Request('http://x/', { headers: { host, ...(proto ? { 'x-forwarded-proto': proto } : {}) } }));
  assert.equal(name('127.0.0.1:47100'), 'mr_session_47100');
  assert.equal(name('machineroom.localhost:8080'), 'mr_session_8080');
  assert.equal(name('machineroom.localhost'), 'mr_session_80');
  assert.equal(name('machineroom.localhost', 'https'), 'mr_session_443');
});

test('/ui: 503 saying how to build while there is no build; then files with the security headers', async () => {
  const missing = await ui('/ui/');
  assert.equal(missing.status, 503);
  assert.match(missing.headers.get('content-type') ?? '', /^text\/plain/);
  assert.ok((await missing.text()).includes(NOT_BUILT_MESSAGE));

  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>dash</title><script type="module" src="/ui/assets/app-1a2b.js"></script>');
  writeFileSync(join(dist, 'assets', 'app-1a2b.js'), 'console.log(1)');
  writeFileSync(join(dist, 'favicon.svg'), '<svg/>');
  writeFileSync(join(dir, 'outside.txt'), 'not for the browser');

  const index = await ui('/ui/');
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-security-policy'), DASHBOARD_CSP);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await index.text(), /<title>dash<\/title>/);

  const asset = await ui('/ui/assets/app-1a2b.js');
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(asset.headers.get('content-security-policy'), DASHBOARD_CSP);
  assert.equal((await ui('/ui/favicon.svg')).headers.get('content-type'), 'image/svg+xml');

  const redirect = await ui('/ui');
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.get('location'), '/ui/');
  for (const path of ['/ui/..%2foutside.txt', '/ui/assets/..%2f..%2foutside.txt', '/ui/%2e%2e/outside.txt', '/ui/assets/nope.js', '/ui/assets/', '/ui/%E0%A4']) {
    const r = await ui(path);
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(await r.text(), /not for the browser/, path);
  }
  const post = await dashboard.handleUi(new Request(`${ORIGIN}/ui/`, { method: 'POST', headers: { host: HOST } }));
  assert.equal(post.status, 405);
});

test('/ui/login: a wrong or missing token is a 401 page saying what to do; the right one sets the cookie and redirects', async () => {
  for (const q of ['', '?token=', '?token=wrong', `?token=${TOKEN}x`]) {
    const r = await ui(`/ui/login${q}`);
    assert.equal(r.status, 401, q);
    assert.equal(r.headers.get('set-cookie'), null);
    assert.equal(r.headers.get('content-security-policy'), DASHBOARD_CSP);
    const page = await r.text();
    assert.match(page, /machineroom dashboard/);
    assert.doesNotMatch(page, /<script|style=/);
  }
  const ok = await ui(`/ui/login?token=${TOKEN}`);
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get('location'), '/ui/');
  assert.equal(ok.headers.get('set-cookie'), `${cookie}; HttpOnly; SameSite=Strict; Path=/`);
  assert.equal(ok.headers.get('referrer-policy'), 'no-referrer');
});

test('the session cookie counts as the token; changes made with it need this origin', async () => {
  assert.deepEqual(await (await api('session')).json(), { authenticated: false });
  assert.deepEqual(await (await api('session', { headers: { cookie } })).json(), { authenticated: true });
  assert.deepEqual(await (await api('session', { headers: { [TOKEN_HEADER]: TOKEN } })).json(), { authenticated: true });
  // A cookie for another port, or with another value, is no session.
  assert.deepEqual(await (await api('session', { headers: { cookie: `mr_session_9999=${sessionValue(TOKEN)}` } })).json(), { authenticated: false });
  assert.deepEqual(await (await api('session', { headers: { cookie: `${cookie}0` } })).json(), { authenticated: false });

  const before = bus.data.kv.get('app/greeting')!.ModifyIndex;
  const put = (headers: Record<string, string>) => api(`kv/app/greeting?cas=${before}`, { method: 'PUT', headers, body: 'hi' });
  assert.equal((await put({})).status, 401, 'no credential');
  assert.equal((await put({ cookie, origin: 'http://evil.example' })).status, 403, 'cookie, another origin');
  assert.equal((await put({ cookie, origin: 'http://127.0.0.1:9999' })).status, 403, 'cookie, another loopback port');
  const noOrigin = await put({ cookie });
  assert.equal(noOrigin.status, 403, 'cookie without Origin');
  assert.match(((await noOrigin.json()) as { message: string }).message, /Origin/);
  assert.equal(bus.data.kv.get('app/greeting')!.ModifyIndex, before, 'nothing was written');
  const ok = await put({ cookie, origin: ORIGIN });
  assert.equal(ok.status, 200);
  assert.equal(bus.data.kv.get('app/greeting')!.Value.toString(), 'hi');
  // GETs with the cookie need no Origin (the browser sends none on same-origin GETs), and reveal secrets.
  const secret = await api('kv/app/secret/pw', { headers: { cookie } });
  assert.equal(secret.status, 200);
  assert.deepEqual(await secret.json(), { key: 'app/secret/pw', value: 's3cret', base64: Buffer.from('s3cret').toString('base64'), flags: 0, modifyIndex: bus.data.kv.get('app/secret/pw')!.ModifyIndex, secret: true });
  assert.equal((await api('kv/app/secret/pw')).status, 401, 'reading a value needs a credential');
});

test('KV writes: cas is required, a stale one is a 409 with the current index and value, create-only is cas=0', async () => {
  const auth = { [TOKEN_HEADER]: TOKEN };
  const noCas = await api('kv/app/greeting', { method: 'PUT', headers: auth, body: 'x' });
  assert.equal(noCas.status, 400);
  assert.match(((await noCas.json()) as { message: string }).message, /cas/);
  assert.equal((await api('kv/app/greeting?cas=abc', { method: 'PUT', headers: auth, body: 'x' })).status, 400);

  const current = bus.data.kv.get('app/greeting')!;
  const stale = await api(`kv/app/greeting?cas=${current.ModifyIndex - 1}`, { method: 'PUT', headers: auth, body: 'lost update' });
  assert.equal(stale.status, 409);
  const body = (await stale.json()) as { code: string; message: string; error: { code: string; message: string }; current: { modifyIndex: number; value: string | null } };
  assert.equal(body.code, 'ERR_CONFLICT');
  assert.deepEqual(body.error, { code: 'ERR_CONFLICT', message: body.message });
  assert.match(body.message, new RegExp(`app/greeting was changed by someone else \\(now at index ${current.ModifyIndex}\\)`));
  assert.deepEqual(body.current, { modifyIndex: current.ModifyIndex, value: current.Value.toString() });
  assert.equal(bus.data.kv.get('app/greeting')!.Value.toString(), current.Value.toString(), 'the stale write changed nothing');

  const fresh = await api(`kv/app/greeting?cas=${current.ModifyIndex}`, { method: 'PUT', headers: auth, body: 'fresh' });
  assert.equal(fresh.status, 200);
  const wrote = (await fresh.json()) as { ok: boolean; modifyIndex: number };
  assert.equal(wrote.ok, true);
  assert.equal(wrote.modifyIndex, bus.data.kv.get('app/greeting')!.ModifyIndex);
  assert.ok(wrote.modifyIndex > current.ModifyIndex);

  assert.equal((await api('kv/app/new?cas=0', { method: 'PUT', headers: auth, body: 'made' })).status, 200);
  const again = await api('kv/app/new?cas=0', { method: 'PUT', headers: auth, body: 'twice' });
  assert.equal(again.status, 409);
  assert.equal(((await again.json()) as { current: { value: string } }).current.value, 'made');

  const made = bus.data.kv.get('app/new')!;
  assert.equal((await api(`kv/app/new?cas=${made.ModifyIndex + 100}`, { method: 'DELETE', headers: auth })).status, 409);
  assert.equal((await api('kv/app/new', { method: 'DELETE', headers: auth })).status, 400);
  assert.equal((await api(`kv/app/new?cas=${made.ModifyIndex}`, { method: 'DELETE', headers: auth })).status, 200);
  assert.equal(bus.data.kv.get('app/new'), undefined);

  const blob = await api('kv/app/blob', { headers: auth });
  assert.deepEqual(await blob.json(), { key: 'app/blob', value: null, base64: Buffer.from([0xff, 0xfe, 0x00, 0x81]).toString('base64'), flags: 0, modifyIndex: bus.data.kv.get('app/blob')!.ModifyIndex, secret: false });
  assert.equal((await api('kv/nope', { headers: auth })).status, 404);
  const huge = await api('kv/app/huge?cas=0', { method: 'PUT', headers: auth, body: new Uint8Array(512 * 1024 + 1) });
  assert.equal(huge.status, 400);
  assert.equal(bus.data.kv.get('app/huge'), undefined);
});

test('the stream: retry, hello, status, traffic, kv (secrets and binary masked), events and log tail, then live changes', async () => {
  const ac = new AbortController();
  const res = await api('stream?tail=2', { headers: { cookie }, signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const s = sseReader(res);
  const count = (name: string) => s.seen.filter((e) => e.event === name).length;
  await s.until('the history', () => count('event') === 2 && count('log') === 2);
  assert.deepEqual(
    s.seen.slice(0, 5).map((e) => e.event),
    ['retry', 'hello', 'status', 'traffic', 'kv'],
  );
  assert.deepEqual(s.seen[1]!.data, { info: INFO, authenticated: true });
  const kv = s.seen[4]!.data as KvSnapshot;
  const byKey = new Map(kv.entries.map((e) => [e.key, e]));
  assert.equal(kv.index, bus.data.kv.indexOfPrefix(''));
  assert.equal(byKey.get('app/greeting')!.value, 'fresh');
  assert.deepEqual({ ...byKey.get('app/secret/pw')!, createIndex: 0, modifyIndex: 0 }, { key: 'app/secret/pw', flags: 0, createIndex: 0, modifyIndex: 0, size: 6, secret: true, binary: false, value: null });
  assert.equal(byKey.get('app/blob')!.binary, true);
  assert.equal(byKey.get('app/blob')!.value, null);
  assert.deepEqual(s.seen.filter((e) => e.event === 'event').map((e) => (e.data as MachineroomEvent).seq), [1, 2]);

  // A KV write shows up as a kv event; a change on the bus brings a new status.
  await bus.data.kv.set('app/greeting', Buffer.from('live'));
  await s.until('a kv event with the new value', () => s.seen.some((e) => e.event === 'kv' && (e.data as KvSnapshot).entries.some((x) => x.key === 'app/greeting' && x.value === 'live')));
  const statuses = count('status');
  statusVersion++;
  bus.store.registerNode({ Node: 'm-new', Address: '127.0.0.9' });
  await s.until('a new status', () => count('status') > statuses);
  assert.equal((s.seen.filter((e) => e.event === 'status').at(-1)!.data as RoomStatus).services[0]!.desired, statusVersion);
  await s.until('a heartbeat comment', () => s.comments.length > 0);
  ac.abort();
  await waitFor('the log follower to be let go', () => logFollowers === 0);
});

test('status signals are coalesced: a burst of bus writes costs one or two status computations', async () => {
  const ac = new AbortController();
  const s = sseReader(await api('stream?tail=0', { signal: ac.signal }));
  await s.until('the first status', () => s.seen.some((e) => e.event === 'status'));
  assert.equal((s.seen.find((e) => e.event === 'hello')!.data as { authenticated: boolean }).authenticated, false);
  const calls = statusCalls;
  statusVersion++;
  for (let i = 0; i < 50; i++) bus.store.registerNode({ Node: `burst-${i}`, Address: '127.0.0.10' });
  await s.until('the status after the burst', () => s.seen.some((e) => e.event === 'status' && (e.data as RoomStatus).services[0]!.desired === statusVersion));
  assert.ok(statusCalls - calls <= 2, `${statusCalls - calls} status computations for 50 signals`);
  ac.abort();
});

test('a reader that does not read holds a bounded number of frames; closing the server ends the stream', async () => {
  floodLogs = true;
  logsPulled = 0;
  try {
    const res = await api('stream?tail=0');
    const reader = res.body!.getReader();
    await reader.read(); // the stream has started; from here on nobody reads
    await waitFor('the log pump to fill the outbox', () => logsPulled >= 200);
    // The pump now waits for room: turns of the event loop pull nothing more.
    let last = -1;
    while (last !== logsPulled) {
      last = logsPulled;
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    }
    assert.ok(logsPulled < 2000, `${logsPulled} lines pulled for a reader that read nothing`);
    dashboard.close();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    await waitFor('the log follower to be let go', () => logFollowers === 0);
    const after = await api('stream');
    assert.equal(after.status, 503, 'no new streams once closed');
  } finally {
    floodLogs = false;
  }
});
