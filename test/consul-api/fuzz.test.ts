// Fuzz: thousands of random and malformed requests (methods, paths, parameters, bodies) against a live API; afterwards
// the data written before is intact, the server still answers, and every 5xx is one of Consul's deliberate RPC errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi } from './harness.js';
import type { ApiUnderTest } from './harness.js';

let t: ApiUnderTest;
before(async () => {
  t = await startApi();
});
after(async () => {
  await t.close();
});

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with FUZZ_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const rand = prng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const chance = (p: number) => rand() < p;
const int = (n: number) => Math.floor(rand() * n);

const METHODS = ['GET', 'GET', 'PUT', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS', 'HEAD'] as const;
const PREFIXES = [
  '/v1/kv/fuzz/',
  '/v1/agent/self',
  '/v1/agent/members',
  '/v1/agent/services',
  '/v1/agent/service/',
  '/v1/agent/service/register',
  '/v1/agent/service/deregister/',
  '/v1/agent/service/maintenance/',
  '/v1/agent/checks',
  '/v1/agent/check/register',
  '/v1/agent/check/deregister/',
  '/v1/agent/check/pass/',
  '/v1/agent/check/warn/',
  '/v1/agent/check/update/',
  '/v1/agent/maintenance',
  '/v1/agent/health/service/id/',
  '/v1/agent/health/service/name/',
  '/v1/catalog/register',
  '/v1/catalog/deregister',
  '/v1/catalog/services',
  '/v1/catalog/service/',
  '/v1/catalog/nodes',
  '/v1/catalog/node/',
  '/v1/catalog/node-services/',
  '/v1/catalog/datacenters',
  '/v1/health/service/',
  '/v1/health/checks/',
  '/v1/health/node/',
  '/v1/health/state/',
  '/v1/session/create',
  '/v1/session/destroy/',
  '/v1/session/renew/',
  '/v1/session/info/',
  '/v1/session/node/',
  '/v1/session/list',
  '/v1/txn',
  '/v1/event/fire/',
  '/v1/event/list',
  '/v1/status/leader',
  '/v1/status/peers',
  '/v1/unknown/',
  '/v1/',
  '/',
] as const;
// No dot segments: the URL parser would resolve them, and "/v1/kv/fuzz/../.." would reach keys outside fuzz/.
const SEGMENTS = ['', 'x', 'fuzz-svc', 'fuzz-svc-2', 'node1', 'serfHealth', 'service:fuzz-svc', 'any', 'passing', 'critical', 'app', '%zz', '%00', '%C3%BC', '%2F', 'a/b/c', 'ü', '%E2%82', 'x'.repeat(3000), '-', '_', '~', '%20sp', '"', "'", '<>'];
const PARAMS: [string, () => string][] = [
  ['index', () => pick(['0', '1', '5', '99999999', 'abc', '-1', '1.5', '18446744073709551616'])],
  ['wait', () => pick(['1ms', '10ms', 'abc', '', '-5s', '1h', '10'])],
  ['recurse', () => pick(['', 'true', 'false'])],
  ['keys', () => ''],
  ['separator', () => pick(['/', '', 'a', '%'])],
  ['raw', () => ''],
  ['cas', () => pick(['0', '1', '12', 'x', '-3', ''])],
  ['flags', () => pick(['0', '42', '18446744073709551615', 'nope', ''])],
  ['acquire', () => pick(['', '00000000-0000-0000-0000-000000000000', 'junk'])],
  ['release', () => pick(['', 'junk'])],
  ['filter', () => pick(['Service == x', 'Node.Meta.a == b', '((', 'not not', '"x" in Tags', 'Checks.Status == passing or Service.Port == 1', 'ServiceName matches "["', 'a.b.c is not empty', '\u0000', 'Meta["x"] != y'])],
  ['dc', () => pick(['dc1', 'dc2', ''])],
  ['stale', () => ''],
  ['consistent', () => ''],
  ['cached', () => ''],
  ['pretty', () => ''],
  ['passing', () => pick(['', 'true', '0', 'maybe'])],
  ['tag', () => pick(['a', 'primary', ''])],
  ['node-meta', () => pick(['a:b', 'rack', ':'])],
  ['near', () => pick(['_agent', 'node1', 'x'])],
  ['ns', () => pick(['default', 'team'])],
  ['partition', () => pick(['default', 'p'])],
  ['peer', () => pick(['', 'other'])],
  ['token', () => 'secret'],
  ['enable', () => pick(['true', 'false', 'maybe', ''])],
  ['reason', () => 'because'],
  ['note', () => 'n'.repeat(int(6000))],
  ['replace-existing-checks', () => pick(['', 'true', 'false'])],
  ['hash', () => pick(['', 'abc'])],
  ['name', () => pick(['deploy', ''])],
  ['max_stale', () => pick(['1s', 'x'])],
];
const FIELDS = ['Name', 'ID', 'Port', 'Tags', 'Check', 'Checks', 'TTL', 'Status', 'Meta', 'Node', 'Address', 'Service', 'Verb', 'Key', 'Value', 'LockDelay', 'Behavior', 'Weights', 'Output', 'KV', 'Notes', 'ServiceID', 'CheckID', 'Passing', 'Kind', 'Definition'];

function randomString(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_ ';
  return Array.from({ length: int(12) }, () => alphabet[int(alphabet.length)]).join('');
}

function randomJson(depth = 0): unknown {
  switch (depth > 3 ? int(4) : int(7)) {
    case 0:
      return randomString();
    case 1:
      return pick([0, 1, -1, 1.5, 1e300, 8080]);
    case 2:
      return pick([true, false, null]);
    case 3:
      return pick(['10s', '300ms', 'passing', 'critical', 'set', 'get-tree', 'release', 'delete']);
    case 4:
      return Array.from({ length: int(4) }, () => randomJson(depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = int(5); i > 0; i--) obj[chance(0.8) ? pick(FIELDS) : randomString()] = randomJson(depth + 1);
      return obj;
    }
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const TEMPLATES: (() => unknown)[] = [
  () => ({ Name: 'fuzz-svc', Port: int(70000), Tags: ['a'], Check: { TTL: pick(['1m', '300ms', 'x', '']), Status: pick(['passing', 'critical', 'weird']) } }),
  () => ({ Name: 'fuzz-svc-2', ID: pick(['fuzz-svc-2', 'consul', 'serfHealth']), Checks: [{ HTTP: 'http://127.0.0.1:1/h', Interval: pick(['10s', '0', 'x']) }, { TCP: pick(['127.0.0.1:1', 'nope', ':1']), Interval: '10s' }] }),
  () => ({ Name: 'fuzz-check', TTL: '1m', ServiceID: pick(['', 'fuzz-svc', 'missing']) }),
  () => ({ Node: pick(['fuzz-node', 'node1', '']), Address: pick(['10.0.0.1', '']), Service: { Service: pick(['fuzz-ext', '']), ID: pick(['fuzz-ext', 'consul']), Port: 1 }, Check: { CheckID: pick(['fuzz-ext-check', 'serfHealth']), Status: pick(['passing', 'bad']) } }),
  () => ({ Node: pick(['fuzz-node', 'node1']), ServiceID: pick(['fuzz-ext', 'consul', '']), CheckID: pick(['', 'serfHealth']) }),
  () => ({ Name: 'fuzz-session', TTL: pick(['10s', '1s', 'x', '']), Behavior: pick(['release', 'delete', 'explode']), LockDelay: pick(['1s', 5, 'x', -1]) }),
  () => Array.from({ length: pick([1, 2, 5, 129]) }, () => ({ KV: { Verb: pick(['set', 'get', 'get-tree', 'delete', 'delete-tree', 'cas', 'lock', 'bogus']), Key: `fuzz/${randomString()}`, Value: pick([b64('v'), 'not-base64!', null, 5]), Index: pick([0, 1, 'x']) } })),
  () => [{ Node: { Verb: 'set', Node: { Node: 'x' } } }, { Check: {} }],
  () => ({ Status: pick(['passing', 'warning', 'critical', 'bogus', 7]), Output: randomString() }),
];

function randomBody(method: string): RequestInit['body'] | undefined {
  if (method === 'GET' || method === 'HEAD') return undefined;
  switch (int(8)) {
    case 0:
      return undefined;
    case 1:
      return '';
    case 2:
      return Buffer.from(Array.from({ length: int(300) }, () => int(256)));
    case 3:
      return JSON.stringify(randomJson());
    case 4:
      return JSON.stringify(randomJson()).slice(0, int(40));
    case 5:
      return chance(0.1) ? Buffer.alloc(600 * 1024, 0x7b) : '{"Name": "fuzz-svc", "Port": "x"';
    default:
      return JSON.stringify(pick(TEMPLATES)());
  }
}

function randomRequest(): { method: string; path: string; body: RequestInit['body'] | undefined } {
  const method = pick(METHODS);
  const prefix = pick(PREFIXES);
  const path = prefix.endsWith('/') && chance(0.9) ? prefix + pick(SEGMENTS) : prefix;
  const params: string[] = [];
  for (let i = int(5); i > 0; i--) {
    const [name, value] = pick(PARAMS);
    params.push(chance(0.15) ? name : `${name}=${encodeURIComponent(value())}`);
  }
  // Any well-formed ?index (or ?hash) must come with a short ?wait, or it would block for Consul's default 5 minutes.
  if (params.some((p) => /^index=\d+$/.test(p) || p.startsWith('hash='))) {
    const rest = params.filter((p) => p !== 'wait' && !p.startsWith('wait='));
    params.splice(0, params.length, 'wait=5ms', ...rest);
  }
  return { method, path: params.length ? `${path}?${params.join('&')}` : path, body: randomBody(method) };
}

/** 5xx answers Consul itself gives for these inputs (its RPC errors); anything else would be a crash. */
const EXPECTED_5XX = [
  /^No path to datacenter$/,
  /invalid session/i,
  /^missing session$/i,
  /^Invalid Session TTL/,
  /^Session TTL '.*' invalid/,
  /^Invalid Behavior setting/,
  /^Missing node registration$/,
  /^Missing check '.*' registration$/,
  /^Check '.*' is in critical state$/,
  /^CheckID ".*" does not have associated TTL$/,
  /lock-delay/i,
];

test(`a few thousand random requests leave the bus intact (seed ${SEED})`, { timeout: 180_000 }, async () => {
  await t.consul.kv.set('keep/a', 'alpha');
  await t.consul.kv.set('keep/b/c', Buffer.from([0, 1, 2, 255]));
  await t.consul.agent.service.register({ name: 'keeper', port: 1, check: { name: 'alive', ttl: '1h', status: 'passing', timeout: '' } as never });
  const before = ((await t.consul.kv.get({ key: 'keep/', recurse: true })) as { Key: string; ModifyIndex: number }[]).map((e) => [e.Key, e.ModifyIndex]);

  const total = 3000;
  const statuses = new Map<number, number>();
  const unexpected: string[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent += 1;
      const { method, path, body } = randomRequest();
      let res: Response;
      try {
        res = await fetch(`${t.base}${path}`, { method, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(20_000) });
      } catch (err) {
        unexpected.push(`${method} ${path.slice(0, 200)}: transport error ${(err as Error).message}`);
        continue;
      }
      const text = method === 'HEAD' ? '' : await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      // agent/health answers 503 for a critical service by design.
      const healthSummary = path.startsWith('/v1/agent/health/');
      if (res.status >= 500 && !healthSummary && !EXPECTED_5XX.some((re) => re.test(text))) unexpected.push(`${method} ${path.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`);
      if (res.status >= 400 && method !== 'HEAD' && text === '' && res.status !== 404) unexpected.push(`${method} ${path.slice(0, 200)} → ${res.status} without a message`);
    }
  };
  await Promise.all(Array.from({ length: 24 }, worker));

  assert.deepEqual(unexpected.slice(0, 20), [], `seed ${SEED}; statuses ${JSON.stringify([...statuses])}`);
  assert.ok((statuses.get(200) ?? 0) > 100, `some requests succeeded: ${JSON.stringify([...statuses])}`);
  assert.ok((statuses.get(400) ?? 0) > 100, `many were refused: ${JSON.stringify([...statuses])}`);

  // The server still answers, and what was written before is untouched.
  assert.equal(await t.consul.status.leader(), '127.0.0.1:8300');
  const after = ((await t.consul.kv.get({ key: 'keep/', recurse: true })) as { Key: string; ModifyIndex: number }[]).map((e) => [e.Key, e.ModifyIndex]);
  assert.deepEqual(after, before);
  assert.equal(((await t.consul.kv.get('keep/a')) as { Value: string }).Value, 'alpha');
  const raw = Buffer.from(await (await fetch(`${t.base}/v1/kv/keep/b/c?raw`)).arrayBuffer());
  assert.deepEqual([...raw], [0, 1, 2, 255]);
  const services = (await t.consul.agent.service.list()) as Record<string, unknown>;
  assert.ok(services.keeper, 'the registered service is still there');
  const serf = (await t.consul.health.node('node1')) as { CheckID: string; Status: string }[];
  assert.equal(serf.find((c) => c.CheckID === 'serfHealth')?.Status, 'passing');
  assert.ok(t.store.service('consul'), 'the server\'s own service is still there');
});
