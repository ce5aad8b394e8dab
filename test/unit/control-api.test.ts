// Unit: the control API as a Request → Response function, in-process, over a fake machine room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createControlApi, isLoopbackHostname } from '../../src/daemon/index.js';
import { TOKEN_HEADER, VERSION_HEADER } from '../../src/client/index.js';
import type { DaemonInfo, MachineRoom } from '../../src/client/index.js';
import { MachineroomError } from '../../src/errors/index.js';
import type { LogLine } from '../../src/supervisor/index.js';

const TOKEN = 'secret-token-123';
const VERSION = '9.9.9-test';
const HOST = '127.0.0.1:47001';
const BASE = `http://${HOST}/v1/machineroom`;

const INFO: DaemonInfo = {
  version: VERSION,
  pid: 1,
  project: 'demo',
  projectId: 'demo-1',
  projectDir: '/tmp/demo',
  secrets: [],
  apiUrl: `http://${HOST}`,
  startedAt: new Date(0).toISOString(),
  machineMode: 'port',
};

/** A fake room (only the room is faked): records calls, answers fixed values, throws on request. */
function fakeRoom() {
  const calls: [string, unknown][] = [];
  const lines: LogLine[] = [
    { ts: 1, source: 'web.1', service: 'web', stream: 'stdout', text: 'hello' },
    { ts: 2, source: 'web.1', service: 'web', stream: 'stderr', text: 'oops' },
  ];
  async function* iterate<T>(items: T[]): AsyncGenerator<T> {
    for (const i of items) yield i;
  }
  const room: MachineRoom = {
    info: async () => INFO,
    apply: async (config) => {
      calls.push(['apply', config]);
      return { added: ['web'], changed: [], removed: [] };
    },
    status: async () => ({ info: INFO, services: [], instances: [] }),
    scale: async (changes) => {
      calls.push(['scale', changes]);
      if ('ghost' in changes) throw new MachineroomError('ERR_SERVICE_NOT_FOUND', 'no service named "ghost"');
    },
    restart: async (target) => {
      calls.push(['restart', target]);
      if (target === 'crash') throw new Error('kaboom');
      return [`${target}.1`];
    },
    stopService: async (s) => void calls.push(['stopService', s]),
    startService: async (s) => void calls.push(['startService', s]),
    database: async (action) => {
      calls.push(['database', action]);
      return { name: action.name, engine: 'embedded', databases: [] };
    },
    logs: (filter) => {
      calls.push(['logs', filter]);
      return iterate(lines);
    },
    events: (opts) => {
      calls.push(['events', opts]);
      return iterate([]);
    },
    instanceEnv: async (name) => {
      calls.push(['instanceEnv', name]);
      return { PORT: '8080', SECRET: 's3' };
    },
    runLease: async (service) => ({ runId: 'r1', env: {}, cwd: '/', command: [service] }),
    releaseRun: async (id) => void calls.push(['releaseRun', id]),
    shutdown: async () => void calls.push(['shutdown', undefined]),
    traffic: async () => ({ url: 'http://localhost:8080', routes: [], addresses: [], instances: [] }),
  };
  return { room, calls };
}

function setup() {
  const { room, calls } = fakeRoom();
  const handler = createControlApi({ room, token: TOKEN, version: VERSION });
  const call = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string; token?: string | false; host?: string | false } = {}) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.host !== false) headers.host = init.host ?? HOST;
    if (init.token !== false && init.token !== undefined) headers[TOKEN_HEADER] = init.token;
    const req = new Request(`${BASE}/${path}`, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: init.body } : {}) });
    return handler(req, { remoteAddress: '127.0.0.1' });
  };
  return { call, calls };
}

async function errorBody(res: Response): Promise<{ code: string; message: string }> {
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as { code: string; message: string };
  assert.equal(typeof body.code, 'string');
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  return body;
}

test('GET status needs no token and answers JSON with the version header', async () => {
  const { call } = setup();
  const res = await call('status');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get(VERSION_HEADER), VERSION);
  const body = (await res.json()) as { info: DaemonInfo };
  assert.equal(body.info.project, 'demo');
});

test('a foreign Host is refused with 403, even with the token', async () => {
  const { call, calls } = setup();
  for (const host of ['evil.example.com', 'evil.example.com:47001', 'localhost.example.com', '0.0.0.0:47001', '10.0.0.5']) {
    const res = await call('status', { host });
    assert.equal(res.status, 403, host);
    assert.equal(res.headers.get(VERSION_HEADER), VERSION);
    assert.equal((await errorBody(res)).code, 'ERR_FORBIDDEN');
    const post = await call('scale', { method: 'POST', host, token: TOKEN, body: '{"web":2}' });
    assert.equal(post.status, 403, host);
  }
  assert.deepEqual(calls, []);
});

test('a missing Host is refused with 403', async () => {
  const { call } = setup();
  const res = await call('status', { host: false });
  assert.equal(res.status, 403);
});

test('loopback Host names are accepted', async () => {
  const { call } = setup();
  for (const host of ['127.0.0.1:47001', 'localhost:47001', 'LOCALHOST', '[::1]:47001', 'app.localhost:47001', '127.5.6.7:80']) {
    const res = await call('status', { host });
    assert.equal(res.status, 200, host);
  }
});

test('a foreign Origin, or Origin "null", is refused with 403 even with the token', async () => {
  const { call, calls } = setup();
  for (const origin of ['http://evil.example.com', 'https://evil.example.com:47001', 'null', 'file://', 'http://localhost.example.com:47001', 'chrome-extension://abc']) {
    const res = await call('scale', { method: 'POST', token: TOKEN, headers: { origin }, body: '{"web":2}' });
    assert.equal(res.status, 403, origin);
    const body = await errorBody(res);
    assert.equal(body.code, 'ERR_FORBIDDEN');
    assert.ok(body.message.includes(origin), body.message);
    assert.equal((await call('status', { headers: { origin } })).status, 403, origin);
  }
  assert.deepEqual(calls, []);
});

test('the API\'s own Origin is accepted', async () => {
  const { call } = setup();
  const res = await call('scale', { method: 'POST', token: TOKEN, headers: { origin: `http://${HOST}` }, body: '{"web":2}' });
  assert.equal(res.status, 200);
});

test('POST and PUT without the token, or with a wrong one, are 401 and never reach the room', async () => {
  const { call, calls } = setup();
  const mutations: [string, string, string][] = [
    ['POST', 'scale', '{"web":2}'],
    ['POST', 'restart', '{"target":"web"}'],
    ['POST', 'stop', '{"service":"web"}'],
    ['POST', 'start', '{"service":"web"}'],
    ['POST', 'shutdown', '{}'],
    ['POST', 'run', '{"service":"web"}'],
    ['PUT', 'config', '{}'],
    ['POST', 'db', '{"name":"database","action":"info"}'],
  ];
  for (const [method, path, body] of mutations) {
    for (const token of [false, 'wrong', '', TOKEN + 'x'] as const) {
      const res = await call(path, { method, body, token });
      assert.equal(res.status, 401, `${method} ${path} token=${String(token)}`);
      assert.equal(res.headers.get(VERSION_HEADER), VERSION);
      assert.equal((await errorBody(res)).code, 'ERR_UNAUTHORIZED');
    }
  }
  const del = await call('run/r1', { method: 'DELETE' });
  assert.equal(del.status, 401);
  assert.deepEqual(calls, []);
});

test('with the token, mutations reach the room and answer 200', async () => {
  const { call, calls } = setup();
  const scale = await call('scale', { method: 'POST', token: TOKEN, body: '{"web":3}' });
  assert.equal(scale.status, 200);
  assert.deepEqual(await scale.json(), { ok: true });
  const restart = await call('restart', { method: 'POST', token: TOKEN, body: '{"target":"web"}' });
  assert.deepEqual(await restart.json(), { restarted: ['web.1'] });
  const apply = await call('config', { method: 'PUT', token: TOKEN, body: '{"name":"demo"}' });
  assert.equal(apply.status, 200);
  assert.deepEqual(await apply.json(), { added: ['web'], changed: [], removed: [] });
  const shutdown = await call('shutdown', { method: 'POST', token: TOKEN, body: '' });
  assert.equal(shutdown.status, 202);
  const release = await call('run/r%201', { method: 'DELETE', token: TOKEN });
  assert.equal(release.status, 200);
  assert.deepEqual(calls, [
    ['scale', { web: 3 }],
    ['restart', 'web'],
    ['apply', { name: 'demo' }],
    ['shutdown', undefined],
    ['releaseRun', 'r 1'],
  ]);
});

test('GET env/<name> needs the token; with it the room gets the decoded name', async () => {
  const { call, calls } = setup();
  assert.equal((await call('env/web.1')).status, 401);
  assert.equal((await call('env/web.1', { token: 'wrong' })).status, 401);
  assert.deepEqual(calls, []);
  const res = await call('env/web%2E1', { token: TOKEN });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { PORT: '8080', SECRET: 's3' });
  assert.deepEqual(calls, [['instanceEnv', 'web.1']]);
});

test('unknown endpoints are 404 and wrong methods 405, both as JSON {code, message}', async () => {
  const { call } = setup();
  const unknown = await call('nope', { token: TOKEN });
  assert.equal(unknown.status, 404);
  assert.equal((await errorBody(unknown)).code, 'ERR_NOT_FOUND');
  assert.equal(unknown.headers.get(VERSION_HEADER), VERSION);

  const handler = createControlApi({ room: fakeRoom().room, token: TOKEN, version: VERSION });
  const outside = await handler(new Request(`http://${HOST}/v1/agent/self`, { headers: { host: HOST } }), { remoteAddress: '127.0.0.1' });
  assert.equal(outside.status, 404);
  assert.equal(outside.headers.get(VERSION_HEADER), VERSION);
  assert.match((await errorBody(outside)).message, /\/v1\/machineroom\//);

  const wrong = await call('status', { method: 'DELETE', token: TOKEN });
  assert.equal(wrong.status, 405);
  const body = await errorBody(wrong);
  assert.equal(body.code, 'ERR_METHOD_NOT_ALLOWED');
  assert.match(body.message, /GET/);
  const wrongPost = await call('scale', { method: 'GET', token: TOKEN });
  assert.equal(wrongPost.status, 405);
  assert.match((await errorBody(wrongPost)).message, /POST/);
});

test('a malformed JSON body is 400 ERR_BAD_REQUEST', async () => {
  const { call, calls } = setup();
  for (const body of ['{', 'not json', '']) {
    const res = await call('scale', { method: 'POST', token: TOKEN, body });
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.headers.get(VERSION_HEADER), VERSION);
    assert.equal((await errorBody(res)).code, 'ERR_BAD_REQUEST');
  }
  assert.deepEqual(calls, []);
});

test('errors from the room map through their codes; unexpected throws are 500 ERR_INTERNAL', async () => {
  const { call } = setup();
  const missing = await call('scale', { method: 'POST', token: TOKEN, body: '{"ghost":1}' });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { code: 'ERR_SERVICE_NOT_FOUND', message: 'no service named "ghost"' });
  const crash = await call('restart', { method: 'POST', token: TOKEN, body: '{"target":"crash"}' });
  assert.equal(crash.status, 500);
  assert.equal(crash.headers.get(VERSION_HEADER), VERSION);
  assert.deepEqual(await crash.json(), { code: 'ERR_INTERNAL', message: 'kaboom' });
});

test('GET logs streams NDJSON with the version header and passes the filter to the room', async () => {
  const { call, calls } = setup();
  const res = await call('logs?target=web&target=api.1&tail=5&since=10');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get(VERSION_HEADER), VERSION);
  assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
  const rows = (await res.text()).trim().split('\n').map((r) => JSON.parse(r) as LogLine);
  assert.deepEqual(
    rows.map((r) => r.text),
    ['hello', 'oops'],
  );
  assert.deepEqual(calls, [['logs', { targets: ['web', 'api.1'], follow: false, tail: 5, since: 10 }]]);
});

test('GET logs with a bad tail or since is 400', async () => {
  const { call, calls } = setup();
  for (const q of ['tail=abc', 'tail=-1', 'since=NaN']) {
    const res = await call(`logs?${q}`);
    assert.equal(res.status, 400, q);
    assert.equal((await errorBody(res)).code, 'ERR_BAD_REQUEST');
  }
  assert.deepEqual(calls, []);
});

test(
  'a malformed percent-encoding in the path is 400, not 500',
  async () => {
    const { call } = setup();
    const res = await call('env/%E0%A4', { token: TOKEN });
    assert.equal(res.status, 400);
    assert.equal((await errorBody(res)).code, 'ERR_BAD_REQUEST');
  },
);

test('isLoopbackHostname', () => {
  for (const h of ['127.0.0.1', 'localhost', 'LocalHost', 'localhost.', '::1', '[::1]', 'foo.localhost', '127.3.4.5', '127.255.255.255']) {
    assert.equal(isLoopbackHostname(h), true, h);
  }
  for (const h of ['example.com', 'localhost.example.com', '0.0.0.0', '128.0.0.1', '127.0.0.1.example.com', '10.0.0.1', '::', '', 'mylocalhost']) {
    assert.equal(isLoopbackHostname(h), false, h);
  }
});
