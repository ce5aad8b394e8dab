// HTTP/1.1 edge cases through the front door's own upstream client: HEAD, 204 and 304 without bodies, interim 1xx
// answers, a close-delimited body, a chunked request body re-chunked upstream, a pooled connection the instance
// closed, header folding of duplicates, and a malformed answer turned into a 502.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { createHarness, send, waitFor } from './support.js';
import type { Harness } from './support.js';

const harnesses: Harness[] = [];
after(async () => {
  for (const h of harnesses) await h.closeAll();
});

test('HEAD, 204, 304, 1xx and duplicate headers pass through correctly', async () => {
  const h = createHarness();
  harnesses.push(h);
  const b = await h.startBackend('e-1', (req, res) => {
    if (req.url === '/head') {
      res.writeHead(200, { 'content-length': '1234', 'x-kind': 'head' });
      return res.end();
    }
    if (req.url === '/204') return res.writeHead(204, { 'x-kind': 'nocontent' }).end();
    if (req.url === '/304') return res.writeHead(304, { etag: '"v1"' }).end();
    if (req.url === '/hints') {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('after hints');
    }
    if (req.url === '/cookies') {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      return res.end('two cookies');
    }
    res.end('other');
  });
  h.register('e', b);
  const { port } = await h.startFrontDoor();
  const head = await send(port, 'e.localhost', '/head', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '1234', 'HEAD keeps the length the GET would have');
  assert.equal(head.body, '');
  const none = await send(port, 'e.localhost', '/204');
  assert.equal(none.status, 204);
  assert.equal(none.headers['x-kind'], 'nocontent');
  assert.equal((await send(port, 'e.localhost', '/304')).status, 304);
  const hints = await send(port, 'e.localhost', '/hints');
  assert.equal(hints.status, 200);
  assert.equal(hints.body, 'after hints');
  const cookies = await send(port, 'e.localhost', '/cookies');
  assert.deepEqual(cookies.headers['set-cookie'], ['a=1', 'b=2']);
  // Every answer above reused one pooled connection: a later plain GET still works on it.
  assert.equal((await send(port, 'e.localhost', '/other')).body, 'other');
});

test('a chunked request body arrives whole; a close-delimited answer arrives whole', async () => {
  const h = createHarness();
  harnesses.push(h);
  const b = await h.startBackend('c-1', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      // No length and no chunking: HTTP/1.0-style, the body ends with the connection.
      res.writeHead(200, { connection: 'close', 'x-te': String(req.headers['transfer-encoding'] ?? '') });
      res.useChunkedEncodingByDefault = false;
      res.end(`got ${body.length}: ${body.slice(0, 12)}`);
    });
  });
  h.register('c', b);
  const { port } = await h.startFrontDoor();
  const reply = await new Promise<{ status: number; body: string; te: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { host: 'c.localhost', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, te: String(res.headers['x-te']) }));
    });
    req.on('error', reject);
    for (let i = 0; i < 50; i++) req.write(`chunk-${i};`);
    req.end();
  });
  assert.equal(reply.status, 200);
  const expected = Array.from({ length: 50 }, (_, i) => `chunk-${i};`).join('');
  assert.equal(reply.body, `got ${expected.length}: ${expected.slice(0, 12)}`);
  assert.equal(reply.te, 'chunked', 'the upstream got the body chunked');
});

test('a pooled connection the instance closed is replaced; a malformed answer is a 502 naming the instance', async () => {
  const h = createHarness();
  harnesses.push(h);
  // Keep-alive of 50 ms: pooled connections die between requests.
  const b = await h.startBackend('p-1');
  b.server.keepAliveTimeout = 50;
  h.register('p', b);
  const { port } = await h.startFrontDoor();
  for (let i = 0; i < 5; i++) {
    assert.equal((await send(port, 'p.localhost', `/${i}`)).status, 200);
    // The backend closes the idle pooled connection; the next request must not fail on it.
    await waitFor(() => new Promise<boolean>((r) => b.server.getConnections((_e, n) => r(n === 0))), 5000, 'the backend to close its idle connection');
  }
  // A "backend" answering garbage.
  const garbage = createTcpServer((s: Socket) => s.once('data', () => s.end('NOT HTTP AT ALL\r\n\r\n')));
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', () => r()));
  const gport = (garbage.address() as AddressInfo).port;
  try {
    h.store.registerService({ ID: 'g-1', Service: 'g', Tags: [], Address: '127.0.0.1', Port: gport, Meta: {}, Node: 'm1', Weights: { Passing: 1, Warning: 1 } });
    const bad = await send(port, 'g.localhost', '/', { headers: { accept: 'application/json' } });
    assert.equal(bad.status, 502);
    assert.match(bad.body, /g-1/);
  } finally {
    await new Promise<void>((r) => garbage.close(() => r()));
  }
});

test('a large chunked upload under backpressure arrives byte for byte', async () => {
  const h = createHarness();
  harnesses.push(h);
  const b = await h.startBackend('u-1', (req, res) => {
    const hash = createHash('sha256');
    let n = 0;
    // A slow reader: the front door's upstream buffer fills and it must wait for drain.
    req.on('data', (c: Buffer) => {
      hash.update(c);
      n += c.length;
      req.pause();
      setImmediate(() => req.resume());
    });
    req.on('end', () => res.end(JSON.stringify({ n, sha: hash.digest('hex') })));
  });
  h.register('u', b);
  const { port } = await h.startFrontDoor();
  const sent = createHash('sha256');
  const total = 8 * 1024 * 1024;
  const reply = await new Promise<{ n: number; sha: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { host: 'u.localhost', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as { n: number; sha: string }));
    });
    req.on('error', reject);
    let i = 0;
    const pump = (): void => {
      while (i * 65536 < total) {
        const chunk = Buffer.alloc(65536, i % 251);
        chunk.writeUInt32BE(i, 0);
        sent.update(chunk);
        i++;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  assert.equal(reply.n, total);
  assert.equal(reply.sha, sent.digest('hex'));
});
