// The KV endpoints and /v1/txn, driven with the real `consul` npm client plus raw fetch for exact statuses and headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi } from './harness.js';
import type { ApiUnderTest } from './harness.js';
import { waitFor } from '../unit/wait-for.js';

let t: ApiUnderTest;
before(async () => {
  t = await startApi();
});
after(async () => {
  await t.close();
});

const raw = (path: string, init?: RequestInit) => fetch(`${t.base}${path}`, init);

test('set, get, keys, recurse and delete through the consul client', async () => {
  const kv = t.consul.kv;
  assert.equal(await kv.set('app/config/db', 'postgres://x'), true);
  assert.equal(await kv.set({ key: 'app/config/flags', value: 'on', flags: 42 }), true);
  assert.equal(await kv.set('app/other', ''), true);
  const one = (await kv.get('app/config/db')) as { Key: string; Value: string; Flags: number; CreateIndex: number; ModifyIndex: number; LockIndex: number };
  assert.equal(one.Key, 'app/config/db');
  assert.equal(one.Value, 'postgres://x');
  assert.equal(one.LockIndex, 0);
  assert.ok(one.CreateIndex > 0 && one.ModifyIndex === one.CreateIndex);
  assert.equal(((await kv.get('app/config/flags')) as { Flags: number }).Flags, 42);
  // An empty value reads back as null, as the client's own test expects.
  assert.equal(((await kv.get('app/other')) as { Value: string | null }).Value, null);
  assert.equal(await kv.get('app/missing'), undefined);
  const all = (await kv.get({ key: 'app/', recurse: true })) as { Key: string }[];
  assert.deepEqual(all.map((e) => e.Key), ['app/config/db', 'app/config/flags', 'app/other']);
  assert.deepEqual(await kv.keys('app/'), ['app/config/db', 'app/config/flags', 'app/other']);
  assert.deepEqual(await kv.keys({ key: 'app/', separator: '/' }), ['app/config/', 'app/other']);
  assert.equal(await kv.del('app/other'), true);
  assert.equal(await kv.get('app/other'), undefined);
  assert.equal(await kv.del({ key: 'app/', recurse: true }), true);
  assert.equal(await kv.get({ key: 'app/', recurse: true }), undefined);
});

test('keys with slashes, spaces and unicode are percent-decoded from the path', async () => {
  assert.equal(await t.consul.kv.set('weird/a b/ü?#&=', 'v'), true);
  const res = await raw('/v1/kv/weird/a%20b/%C3%BC%3F%23%26%3D');
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { Key: string }[])[0]!.Key, 'weird/a b/ü?#&=');
});

test('raw reads, 404s with index headers, and the empty key', async () => {
  await t.consul.kv.set('raw/page', '<script>alert(1)</script>');
  const res = await raw('/v1/kv/raw/page?raw');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('content-security-policy'), 'sandbox');
  assert.equal(await res.text(), '<script>alert(1)</script>');

  const missing = await raw('/v1/kv/raw/nothing-here');
  assert.equal(missing.status, 404);
  assert.ok(Number(missing.headers.get('x-consul-index')) >= 1);
  assert.equal(missing.headers.get('x-consul-knownleader'), 'true');
  assert.equal(missing.headers.get('x-consul-lastcontact'), '0');

  const empty = await raw('/v1/kv/');
  assert.equal(empty.status, 400);
  assert.equal(await empty.text(), 'Missing key name');
  const rootKeys = await raw('/v1/kv/?keys&separator=/');
  assert.equal(rootKeys.status, 200);
  assert.ok(Array.isArray(await rootKeys.json()));
  const noKeys = await raw('/v1/kv/nothing/?keys');
  assert.equal(noKeys.status, 404);
  // Consul's historic misspelling of separator still works.
  await t.consul.kv.set('sep/a/1', 'x');
  await t.consul.kv.set('sep/b', 'x');
  assert.deepEqual(await (await raw('/v1/kv/sep/?keys&seperator=/')).json(), ['sep/a/', 'sep/b']);
});

test('the single-key index is its ModifyIndex; a recursive index covers deletions', async () => {
  await t.consul.kv.set('idx/a', '1');
  const a = await raw('/v1/kv/idx/a');
  const entry = ((await a.json()) as { ModifyIndex: number }[])[0]!;
  assert.equal(Number(a.headers.get('x-consul-index')), entry.ModifyIndex);
  const before = Number((await raw('/v1/kv/idx/?recurse')).headers.get('x-consul-index'));
  await t.consul.kv.set('idx/b', '2');
  await t.consul.kv.del('idx/b');
  const afterDelete = Number((await raw('/v1/kv/idx/?recurse')).headers.get('x-consul-index'));
  assert.ok(afterDelete > before, `the prefix index moved on a deletion (${before} → ${afterDelete})`);
});

test('flags conflicts, bad numbers and values over 512 KiB are refused', async () => {
  const conflict = await raw('/v1/kv/c/k?cas=0&acquire=abc', { method: 'PUT', body: 'x' });
  assert.equal(conflict.status, 400);
  assert.match(await conflict.text(), /^Conflicting flags: acquire=abc&cas=0$/);
  const delConflict = await raw('/v1/kv/c/k?cas=1&recurse', { method: 'DELETE' });
  assert.equal(delConflict.status, 400);
  assert.match(await delConflict.text(), /^Conflicting flags: /);
  const badFlags = await raw('/v1/kv/c/k?flags=abc', { method: 'PUT', body: 'x' });
  assert.equal(badFlags.status, 400);
  assert.match(await badFlags.text(), /flags/);
  const badCas = await raw('/v1/kv/c/k?cas=-1', { method: 'PUT', body: 'x' });
  assert.equal(badCas.status, 400);

  const big = Buffer.alloc(512 * 1024 + 1, 0x61);
  const tooBig = await raw('/v1/kv/c/big', { method: 'PUT', body: big });
  assert.equal(tooBig.status, 413);
  assert.match(await tooBig.text(), /^Request body\(524289 bytes\) too large, max size: 524288 bytes/);
  const justRight = await raw('/v1/kv/c/big', { method: 'PUT', body: big.subarray(1) });
  assert.equal(justRight.status, 200);
  assert.equal(await justRight.text(), 'true');
  const back = await raw('/v1/kv/c/big?raw');
  assert.equal((await back.arrayBuffer()).byteLength, 512 * 1024);
});

test('a value is stored as the exact bytes of the body', async () => {
  const bytes = Buffer.from([0, 255, 1, 254, 10, 13, 0x80]);
  await raw('/v1/kv/bin/k', { method: 'PUT', body: bytes });
  const back = Buffer.from(await (await raw('/v1/kv/bin/k?raw')).arrayBuffer());
  assert.deepEqual(back, bytes);
  const json = ((await (await raw('/v1/kv/bin/k')).json()) as { Value: string }[])[0]!;
  assert.equal(json.Value, bytes.toString('base64'));
});

test('check-and-set: of two writers racing on the same index, exactly one wins', async () => {
  await t.consul.kv.set('race/counter', '0');
  for (let round = 0; round < 5; round++) {
    const current = (await t.consul.kv.get('race/counter')) as { ModifyIndex: number; Value: string };
    const next = String(Number(current.Value) + 1);
    const results = await Promise.all([
      t.consul.kv.set({ key: 'race/counter', value: `${next}-a`, cas: current.ModifyIndex }),
      t.consul.kv.set({ key: 'race/counter', value: `${next}-b`, cas: current.ModifyIndex }),
    ]);
    assert.equal(results.filter((r) => r === true).length, 1, `round ${round}: ${JSON.stringify(results)}`);
    const after = (await t.consul.kv.get('race/counter')) as { Value: string };
    assert.equal(after.Value, results[0] ? `${next}-a` : `${next}-b`);
    await t.consul.kv.set('race/counter', next);
  }
  // cas=0 creates only when absent (the client turns a `false` body into undefined; raw fetch shows it).
  assert.equal(await t.consul.kv.set({ key: 'race/new', value: 'x', cas: 0 }), true);
  const again = await raw('/v1/kv/race/new?cas=0', { method: 'PUT', body: 'y' });
  assert.equal(await again.text(), 'false');
  // delete with cas deletes only at the matching index.
  const entry = (await t.consul.kv.get('race/new')) as { ModifyIndex: number };
  const stale = await raw(`/v1/kv/race/new?cas=${entry.ModifyIndex + 100}`, { method: 'DELETE' });
  assert.equal(await stale.text(), 'false');
  assert.equal(await t.consul.kv.del({ key: 'race/new', cas: entry.ModifyIndex }), true);
});

test('a blocking watch sees set, set and delete, in order', async () => {
  const seen: (string | undefined)[] = [];
  const watch = t.consul.watch({ method: t.consul.kv.get, options: { key: 'watched/key', wait: '5s' } });
  const errors: unknown[] = [];
  watch.on('change', (data: { Value?: string } | undefined) => seen.push(data?.Value));
  watch.on('error', (err: unknown) => errors.push(err));
  try {
    await waitFor('the first answer', () => seen.length >= 1);
    assert.deepEqual(seen, [undefined]);
    await t.consul.kv.set('watched/key', 'one');
    await waitFor('the first set', () => seen.length >= 2);
    await t.consul.kv.set('watched/key', 'two');
    await waitFor('the second set', () => seen.length >= 3);
    await t.consul.kv.del('watched/key');
    await waitFor('the delete', () => seen.length >= 4);
    assert.deepEqual(seen, [undefined, 'one', 'two', undefined]);
    assert.deepEqual(errors, []);
  } finally {
    watch.end();
  }
});

test('a blocking GET waits for a change past ?index, and answers at ?wait when nothing changes', async () => {
  await t.consul.kv.set('block/k', 'a');
  const first = await raw('/v1/kv/block/k');
  const index = Number(first.headers.get('x-consul-index'));
  const waiting = raw(`/v1/kv/block/k?index=${index}&wait=5s`);
  let settled = false;
  void waiting.then(() => (settled = true));
  await t.consul.kv.set('other/key', 'unrelated');
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'an unrelated write does not answer the query');
  await t.consul.kv.set('block/k', 'b');
  const res = await waiting;
  assert.ok(Number(res.headers.get('x-consul-index')) > index);
  assert.equal(Buffer.from(((await res.json()) as { Value: string }[])[0]!.Value, 'base64').toString(), 'b');

  const timedOut = await raw(`/v1/kv/block/k?index=${index + 1000}&wait=50ms`);
  assert.equal(timedOut.status, 200);
  const badWait = await raw(`/v1/kv/block/k?index=${index}&wait=soon`);
  assert.equal(badWait.status, 400);
  assert.equal(await badWait.text(), 'Invalid wait time');
  const badIndex = await raw('/v1/kv/block/k?index=-3');
  assert.equal(badIndex.status, 400);
  assert.equal(await badIndex.text(), 'Invalid index');
});

test('transactions: all-or-nothing, base64 values in and out, KV only', async () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  // The client sends operations as given: Consul's own shape, [{KV: {Verb, Key, Value}}].
  const ops = [
    { KV: { Verb: 'set', Key: 'txn/a', Value: b64('A') } },
    { KV: { Verb: 'set', Key: 'txn/b', Value: b64('B') } },
    { KV: { Verb: 'get', Key: 'txn/a' } },
  ];
  const ok = (await t.consul.transaction.create(ops as never)) as { Results: { KV: { Key: string; Value: string | null } }[]; Errors: unknown };
  assert.equal(ok.Errors, null);
  assert.deepEqual(
    ok.Results.map((r) => [r.KV.Key, r.KV.Value]),
    [
      ['txn/a', null],
      ['txn/b', null],
      ['txn/a', b64('A')],
    ],
  );

  const failed = await raw('/v1/txn', {
    method: 'PUT',
    body: JSON.stringify([
      { KV: { Verb: 'set', Key: 'txn/c', Value: b64('C') } },
      { KV: { Verb: 'cas', Key: 'txn/a', Value: b64('Z'), Index: 1 } },
    ]),
  });
  assert.equal(failed.status, 409);
  const body = (await failed.json()) as { Results: unknown; Errors: { OpIndex: number; What: string }[] };
  assert.equal(body.Results, null);
  assert.equal(body.Errors[0]!.OpIndex, 1);
  assert.equal(await t.consul.kv.get('txn/c'), undefined, 'the rolled-back set left nothing behind');

  const foreign = await raw('/v1/txn', { method: 'PUT', body: JSON.stringify([{ KV: { Verb: 'get', Key: 'txn/a' } }, { Node: { Verb: 'get', Node: { Node: 'x' } } }]) });
  assert.equal(foreign.status, 400);
  assert.match(await foreign.text(), /operation 1 \("Node"\)/);

  const tooMany = await raw('/v1/txn', { method: 'PUT', body: JSON.stringify(Array.from({ length: 129 }, (_, i) => ({ KV: { Verb: 'get', Key: `k${i}` } }))) });
  assert.equal(tooMany.status, 413);
  assert.equal(await tooMany.text(), 'Transaction contains too many operations (129 > 128)');

  const badB64 = await raw('/v1/txn', { method: 'PUT', body: JSON.stringify([{ KV: { Verb: 'set', Key: 'txn/x', Value: 'not base64!' } }]) });
  assert.equal(badB64.status, 400);
  assert.match(await badB64.text(), /^Failed to parse body: failed to decode value: illegal base64 data at input byte 3/);

  const badVerb = await raw('/v1/txn', { method: 'PUT', body: JSON.stringify([{ KV: { Verb: 'frobnicate', Key: 'txn/x' } }]) });
  assert.equal(badVerb.status, 409);
  assert.match(JSON.stringify(await badVerb.json()), /unknown KV verb \\"frobnicate\\"/);

  const notJson = await raw('/v1/txn', { method: 'PUT', body: '[{' });
  assert.equal(notJson.status, 400);
  assert.match(await notJson.text(), /^Failed to parse body: /);
});
