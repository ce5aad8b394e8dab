// Acceptance: a mutating control call without the token is refused; one with a foreign Origin or Host is refused.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli, cleanupProject } from '../support/cli.js';

let dir = '';
let port = 0;
let token = '';
before(async () => {
  dir = makeProject({ 'machineroom.yml': `services:\n  idle:\n    command: sleep 300\n    replicas: 1\n` });
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stderr);
  port = (JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { apiPort: number }).apiPort;
  token = readFileSync(join(dir, '.machineroom', 'token'), 'utf8').trim();
});
after(async () => {
  if (dir) await cleanupProject(dir);
});

/** Raw HTTP, so the Host header is exactly what we say. */
function call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the token file is private to its owner', () => {
  assert.equal(statSync(join(dir, '.machineroom', 'token')).mode & 0o777, 0o600);
});

test('a mutating call without the token is refused, with it accepted', async () => {
  const body = JSON.stringify({ idle: 2 });
  const no = await call('POST', '/v1/machineroom/scale', { host: `127.0.0.1:${port}`, 'content-type': 'application/json' }, body);
  assert.equal(no.status, 401);
  assert.match(no.body, /token/);
  const wrong = await call('POST', '/v1/machineroom/scale', { host: `127.0.0.1:${port}`, 'x-machineroom-token': 'nope' }, body);
  assert.equal(wrong.status, 401);
  const ok = await call('POST', '/v1/machineroom/scale', { host: `127.0.0.1:${port}`, 'x-machineroom-token': token }, body);
  assert.equal(ok.status, 200, ok.body);
  const env = await call('GET', '/v1/machineroom/env/idle.1', { host: `127.0.0.1:${port}` });
  assert.equal(env.status, 401, 'an instance environment (secrets) needs the token too');
});

test('a foreign Host or Origin is refused, even with the token', async () => {
  const body = JSON.stringify({ idle: 1 });
  const host = await call('POST', '/v1/machineroom/scale', { host: 'evil.example:80', 'x-machineroom-token': token }, body);
  assert.equal(host.status, 403);
  assert.match(host.body, /evil\.example/);
  const origin = await call('POST', '/v1/machineroom/scale', { host: `127.0.0.1:${port}`, origin: 'http://evil.example', 'x-machineroom-token': token }, body);
  assert.equal(origin.status, 403);
  assert.match(origin.body, /Origin/);
  const readHost = await call('GET', '/v1/machineroom/status', { host: 'rebind.attacker.test' });
  assert.equal(readHost.status, 403, 'reads are refused for foreign hosts too (DNS rebinding)');
  const sameOrigin = await call('GET', '/v1/machineroom/status', { host: `localhost:${port}`, origin: `http://localhost:${port}` });
  assert.equal(sameOrigin.status, 200);
});

test('a bad request gets a 4xx with a message, never a crash', async () => {
  const bad = await call('POST', '/v1/machineroom/scale', { host: `127.0.0.1:${port}`, 'x-machineroom-token': token }, '{not json');
  assert.equal(bad.status, 400);
  const unknown = await call('POST', '/v1/machineroom/scale', { host: `127.0.0.1:${port}`, 'x-machineroom-token': token }, JSON.stringify({ nosuch: 1 }));
  assert.equal(unknown.status, 404);
  assert.match((JSON.parse(unknown.body) as { message: string }).message, /no service "nosuch"/);
  const method = await call('DELETE', '/v1/machineroom/status', { host: `127.0.0.1:${port}` });
  assert.equal(method.status, 405);
  const alive = await call('GET', '/v1/machineroom/version', { host: `127.0.0.1:${port}` });
  assert.equal(alive.status, 200);
});
