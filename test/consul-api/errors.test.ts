// Bad input gets Consul's answers (text/plain, status, wording): unknown endpoints, wrong verbs, malformed JSON, wrong
// types, bad durations, other datacenters and tenancies, conflicting consistency modes; plus ?pretty and tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startApi } from './harness.js';
import type { ApiUnderTest } from './harness.js';

let t: ApiUnderTest;
before(async () => {
  t = await startApi();
});
after(async () => {
  await t.close();
});

const raw = (path: string, init?: RequestInit) => fetch(`${t.base}${path}`, init);

async function expectText(res: Response, status: number, text: string | RegExp): Promise<void> {
  const body = await res.text();
  assert.equal(res.status, status, `${res.url}: ${body}`);
  if (typeof text === 'string') assert.equal(body, text);
  else assert.match(body, text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
}

/** Sends a request with a raw, unnormalised path (fetch would resolve dot segments and escapes). */
function rawPath(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: t.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('unknown endpoints are 404 with a message', async () => {
  for (const path of ['/v1/nope', '/v1/agent/nope', '/v1/catalog/serviceX', '/v1', '/v1/acl/tokens', '/v2/kv/x']) {
    await expectText(await raw(path), 404, /^Unknown endpoint /);
  }
});

test('a wrong verb is 405 with an Allow header; OPTIONS lists the verbs', async () => {
  const post = await raw('/v1/kv/x', { method: 'POST', body: 'x' });
  assert.equal(post.headers.get('allow'), 'OPTIONS,GET,PUT,DELETE');
  await expectText(post, 405, 'method POST not allowed');
  await expectText(await raw('/v1/agent/services', { method: 'DELETE' }), 405, 'method DELETE not allowed');
  await expectText(await raw('/v1/agent/service/register'), 405, 'method GET not allowed');
  await expectText(await raw('/v1/txn'), 405, 'method GET not allowed');
  await expectText(await raw('/v1/session/create', { method: 'GET' }), 405, 'method GET not allowed');
  const options = await raw('/v1/session/list', { method: 'OPTIONS' });
  assert.equal(options.status, 200);
  assert.equal(options.headers.get('allow'), 'OPTIONS,GET');
});

test('malformed JSON and wrong types are 400 "Request decode failed"', async () => {
  const put = (path: string, body: string) => raw(path, { method: 'PUT', body });
  await expectText(await put('/v1/agent/service/register', '{"Name": "x",'), 400, /^Request decode failed: /);
  await expectText(await put('/v1/agent/check/register', 'not json'), 400, /^Request decode failed: /);
  await expectText(await put('/v1/agent/check/update/x', '{"Status": 1}'), 400, /^Request decode failed: .*'Status' expected type 'string', got unconvertible type 'float64', value: '1'/s);
  await expectText(await put('/v1/catalog/register', '{"Node": ["a"]}'), 400, /^Request decode failed: .*'Node' expected type 'string'/s);
  await expectText(await put('/v1/catalog/deregister', '"just a string"'), 400, /^Request decode failed: .*expected type 'struct'/s);
  await expectText(await put('/v1/session/create', '{"Name": 5}'), 400, /^Request decode failed: .*'Name' expected type 'string'/s);
  await expectText(await put('/v1/agent/service/register', JSON.stringify({ Name: 'x', Checks: { TTL: '1m' } })), 400, /'Checks' expected type '\[\]struct'/);
  await expectText(await put('/v1/agent/service/register', JSON.stringify({ Name: 'x', Meta: { a: 1 } })), 400, /'Meta\[a\]' expected type 'string'/);
});

test('bad durations are refused', async () => {
  await expectText(await raw('/v1/catalog/nodes?index=1&wait=forever'), 400, 'Invalid wait time');
  await expectText(await raw('/v1/catalog/nodes?index=1&wait=10'), 400, 'Invalid wait time');
  await expectText(await raw('/v1/catalog/nodes?max_stale=later'), 400, 'Invalid max_stale value "later"');
  await expectText(
    await raw('/v1/agent/service/register', { method: 'PUT', body: JSON.stringify({ Name: 'x', Check: { HTTP: 'http://127.0.0.1:1/', Interval: '5 seconds' } }) }),
    400,
    /^Request decode failed: .*error decoding 'Check.Interval': time: (invalid duration|unknown unit)/s,
  );
  await expectText(await raw('/v1/session/create', { method: 'PUT', body: JSON.stringify({ LockDelay: 'soon' }) }), 400, /LockDelay/);
  await expectText(await raw('/v1/session/create', { method: 'PUT', body: JSON.stringify({ TTL: 'soon' }) }), 500, /^Session TTL 'soon' invalid: time: invalid duration "soon"/);
});

test('other datacenters, enterprise tenancy and peering are refused; conflicting consistency too', async () => {
  await expectText(await raw('/v1/catalog/services?dc=dc2'), 500, 'No path to datacenter');
  assert.equal((await raw('/v1/catalog/services?dc=dc1')).status, 200);
  await expectText(await raw('/v1/kv/x?ns=team'), 400, /"ns" - Namespaces are a Consul Enterprise feature/);
  assert.notEqual((await raw('/v1/kv/x?ns=default')).status, 400);
  await expectText(await raw('/v1/catalog/nodes?partition=p1'), 400, /"partition" - Partitions are a Consul Enterprise feature/);
  await expectText(await raw('/v1/health/service/x?peer=other'), 400, /"peer" - cluster peering is not supported/);
  await expectText(await raw('/v1/health/service/x?sampling=10'), 400, /"sampling"/);
  await expectText(await raw('/v1/catalog/nodes?stale&consistent'), 400, 'Cannot specify ?stale with ?consistent, conflicting semantics.');
  await expectText(await raw('/v1/catalog/nodes?cached&consistent'), 400, 'Cannot specify ?cached with ?consistent, conflicting semantics.');
  const stale = await raw('/v1/catalog/nodes?stale');
  assert.equal(stale.headers.get('x-consul-effective-consistency'), 'stale');
  const cached = await raw('/v1/catalog/nodes?cached');
  assert.equal(cached.headers.get('x-cache'), 'MISS');
  // Unknown parameters are ignored.
  assert.equal((await raw('/v1/catalog/nodes?whatever=1&x')).status, 200);
});

test('paths that cannot be decoded, or hold unprintable characters, are 400', async () => {
  assert.deepEqual(await rawPath('/v1/kv/%zz'), { status: 400, body: 'Invalid URL path "/v1/kv/%zz": malformed percent-encoding' });
  assert.equal((await rawPath('/v1/kv/a%0Ab')).status, 400);
});

test('?pretty indents, tokens in any of Consul\'s three places are accepted and ignored', async () => {
  const pretty = await (await raw('/v1/catalog/datacenters?pretty')).text();
  assert.equal(pretty, '[\n    "dc1"\n]\n');
  assert.equal(await (await raw('/v1/catalog/datacenters')).text(), '["dc1"]');
  for (const init of [{ headers: { 'X-Consul-Token': 'secret' } }, { headers: { Authorization: 'Bearer secret' } }] as RequestInit[]) {
    assert.equal((await raw('/v1/kv/tok', { method: 'PUT', body: 'v', ...init })).status, 200);
  }
  assert.equal((await raw('/v1/kv/tok?token=secret')).status, 200);
  const res = await raw('/v1/status/leader');
  assert.equal(res.headers.get('x-consul-default-acl-policy'), 'allow');
});

test('responses never carry X-Consul-Index 0, and blocking reads always carry the leader headers', async () => {
  for (const path of ['/v1/catalog/nodes', '/v1/catalog/services', '/v1/health/state/any', '/v1/session/list', '/v1/event/list', '/v1/kv/never?recurse']) {
    const res = await raw(path);
    assert.ok(Number(res.headers.get('x-consul-index')) >= 1, path);
    assert.equal(res.headers.get('x-consul-knownleader'), 'true', path);
    assert.equal(res.headers.get('x-consul-lastcontact'), '0', path);
  }
});
