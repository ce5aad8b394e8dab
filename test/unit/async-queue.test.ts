// Unit: the bounded push→pull queue behind live log and event streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAsyncQueue } from '../../src/daemon/async-queue.js';

async function drain<T>(q: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of q) out.push(item);
  return out;
}

test('items come out in the order they went in, and end() finishes iteration', async () => {
  const q = createAsyncQueue<number>();
  q.push(1);
  q.push(2);
  q.push(3);
  q.end();
  assert.deepEqual(await drain(q), [1, 2, 3]);
});

test('a waiting reader wakes for items pushed later and stops at end()', async () => {
  const q = createAsyncQueue<string>();
  const got = drain(q);
  await Promise.resolve();
  q.push('a');
  await new Promise<void>((r) => setImmediate(r));
  q.push('b');
  q.push('c');
  q.end();
  assert.deepEqual(await got, ['a', 'b', 'c']);
});

test('pushes after end() are ignored', async () => {
  const q = createAsyncQueue<number>();
  q.push(1);
  q.end();
  q.push(2);
  assert.deepEqual(await drain(q), [1]);
});

test('a full queue drops items, counts them, and delivers an onDrop marker before the next item', async () => {
  const q = createAsyncQueue<string>(3, (n) => `[${n} dropped]`);
  for (const s of ['a', 'b', 'c', 'd', 'e']) q.push(s);
  assert.equal(q.dropped, 2);
  const it = q[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { done: false, value: 'a' });
  q.push('f');
  q.end();
  const rest: string[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
  assert.deepEqual(rest, ['b', 'c', '[2 dropped]', 'f']);
  assert.equal(q.dropped, 2);
});

test('without onDrop, dropped items are only counted', async () => {
  const q = createAsyncQueue<number>(2);
  for (let i = 0; i < 5; i++) q.push(i);
  assert.equal(q.dropped, 3);
  q.end();
  assert.deepEqual(await drain(q), [0, 1]);
});

test('an abort signal ends a waiting iteration', async () => {
  const ac = new AbortController();
  const q = createAsyncQueue<number>(10, undefined, ac.signal);
  q.push(1);
  const got = drain(q);
  await new Promise<void>((r) => setImmediate(r));
  ac.abort();
  assert.deepEqual(await got, [1]);
  q.push(2);
  assert.deepEqual(await drain(q), []);
});

test(
  'a signal already aborted when the queue is made ends iteration too',
  async () => {
    const q = createAsyncQueue<number>(10, undefined, AbortSignal.abort());
    q.push(1);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 2000)));
    try {
      assert.deepEqual(await Promise.race([drain(q), deadline]), []);
    } finally {
      clearTimeout(timer);
      q.end();
    }
  },
);
