// Consul's HTTP check fields reach the application: method, headers and body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { probeHttp } from '../../src/health/index.js';

test('an http check sends its method, headers and body', async () => {
  let seen: { method?: string; auth?: string; body: string } = { body: '' };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen = { ...(req.method ? { method: req.method } : {}), ...(req.headers['x-auth'] ? { auth: String(req.headers['x-auth']) } : {}), body };
      res.end('fine');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (server.address() as { port: number }).port;
    const r = await probeHttp(`http://127.0.0.1:${port}/health`, 2000, { method: 'post', headers: { 'X-Auth': ['t0ken'] }, body: '{"deep":true}' });
    assert.equal(r.status, 'passing');
    assert.match(r.output, /^HTTP POST http:\/\/127\.0\.0\.1:\d+\/health: 200 OK Output: fine$/);
    assert.deepEqual(seen, { method: 'POST', auth: 't0ken', body: '{"deep":true}' });
  } finally {
    server.close();
  }
});
