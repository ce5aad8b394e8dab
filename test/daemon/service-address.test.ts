// Issue 4, build item 9: every service with a port gets a stable address of its own served by the front door — HTTP
// routed per request for http services, whole connections forwarded for tcp ones — handed to the services that depend
// on it as <NAME>_HOST, <NAME>_PORT and <NAME>_URL (a Kubernetes ClusterIP on one machine).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli, cleanupProject, waitFor, SERVER_JS } from '../support/cli.js';
import { freePort } from '../support/ports.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

// A TCP service: answers every line with "<instance> <line>".
const ECHO_JS = `
const net = require('net');
net.createServer((s) => {
  let buf = '';
  s.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\\n')) >= 0) { s.write(process.env.MR_INSTANCE_ID + ' ' + buf.slice(0, i) + '\\n'); buf = buf.slice(i + 1); }
  });
}).listen(Number(process.env.PORT), process.env.HOST);
`;
// The dependent: shows the variables it was given.
const ENV_JS = `
const http = require('http');
http.createServer((req, res) => res.end(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(API|DB_STORE)_/.test(k))))))
  .listen(Number(process.env.PORT), process.env.HOST);
`;

async function httpJson(url: string): Promise<Record<string, string>> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return (await res.json()) as Record<string, string>;
}

function tcpAsk(host: string, port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.write(line + '\n'));
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\n')) {
        s.end();
        resolve(got.trim());
      }
    });
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('no answer')));
  });
}

test('service addresses: HTTP routing and TCP forwarding at a stable address, handed to dependents', async () => {
  const [apiPort, dbPort, webPort] = [await freePort(), await freePort(), await freePort()];
  const dir = makeProject({
    'server.js': SERVER_JS,
    'echo.js': ECHO_JS,
    'env.js': ENV_JS,
    'machineroom.yml': [
      'name: addrtest',
      'services:',
      '  api:',
      '    command: node server.js',
      '    replicas: 2',
      `    port: ${apiPort}`,
      '    health: { http: /health, interval: 500ms }',
      '  db-store:',
      '    command: node echo.js',
      '    replicas: 2',
      '    protocol: tcp',
      `    port: ${dbPort}`,
      '    health: { tcp: true, interval: 500ms }',
      '  web:',
      '    command: node env.js',
      `    port: ${webPort}`,
      '    depends_on: { api: healthy, db-store: healthy }',
      '',
    ].join('\n'),
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /ADDRESS/, 'the summary shows service addresses');

  const webInstance = (await runCli(['ps', '--json'], { cwd: dir })).stdout;
  const web = (JSON.parse(webInstance) as { instances: Array<{ service: string; address?: string; ports: Record<string, number> }> }).instances.find((i) => i.service === 'web')!;
  const env = await httpJson(`http://${web.address}:${Object.values(web.ports)[0]}/`);
  assert.match(env.API_HOST ?? '', /^127\.\d+\.\d+\.\d+$/, JSON.stringify(env));
  assert.equal(env.API_PORT, String(apiPort), 'loopback mode: the service address keeps the service port');
  assert.equal(env.API_URL, `http://${env.API_HOST}:${env.API_PORT}`);
  assert.equal(env.DB_STORE_URL, `tcp://${env.DB_STORE_HOST}:${env.DB_STORE_PORT}`);
  assert.notEqual(env.API_HOST, env.DB_STORE_HOST, 'each service has its own address');
  const ps = (await runCli(['ps'], { cwd: dir })).stdout;
  assert.ok(ps.includes(env.API_URL!) && ps.includes(env.DB_STORE_URL!), `ps lists the service addresses:\n${ps}`);

  // HTTP at the service address, with no Host header games: both instances answer, request by request.
  const seen = new Set<string>();
  await waitFor('both api instances answer at the service address', async () => {
    seen.add((await httpJson(`${env.API_URL}/`)).id!);
    return seen.size === 2;
  });
  // TCP: whole connections forwarded to the instances.
  const tcpSeen = new Set<string>();
  await waitFor('both db-store instances answer at the service address', async () => {
    const answer = await tcpAsk(env.DB_STORE_HOST!, Number(env.DB_STORE_PORT), 'hello');
    assert.match(answer, /db-store\.\d hello$/);
    tcpSeen.add(answer.split(' ')[0]!);
    return tcpSeen.size === 2;
  });

  // The address is stable: scaling api changes its instances, not where it is reached.
  assert.equal((await runCli(['scale', 'api=3'], { cwd: dir })).code, 0);
  await waitFor('a third api instance answers at the same address', async () => {
    seen.add((await httpJson(`${env.API_URL}/`)).id!);
    return seen.size === 3;
  });
  // A stopped service's address answers 503 (HTTP) / closes (TCP) rather than hanging.
  assert.equal((await runCli(['stop', 'api'], { cwd: dir })).code, 0);
  const res = await waitFor('503 at the address of a stopped service', async () => {
    const r = await fetch(`${env.API_URL}/`, { headers: { accept: 'application/json' } });
    return r.status === 503 ? r : undefined;
  });
  assert.match(await res.text(), /api/);
});

test('service addresses in port mode: a leased port on 127.0.0.1', async () => {
  const apiPort = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `name: addrport\nmachines: port\nservices:\n  api:\n    command: node server.js\n    port: ${apiPort}\n    health: { http: /health, interval: 500ms }\n`,
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(up.stdout.split('\n').find((l) => l.includes('api') && l.includes('127.0.0.1')) ?? '');
  assert.ok(m, up.stdout);
  const body = await httpJson(`http://127.0.0.1:${m[1]}/`);
  assert.match(body.id ?? '', /api\.1/);
});

test('a removed service\'s address is free the moment up returns (every front-door process has let go of it)', async () => {
  const [apiPort, webPort] = [await freePort(), await freePort()];
  const config = (withApi: boolean) =>
    ['name: addrfree', 'services:', ...(withApi ? ['  api:', '    command: node server.js', `    port: ${apiPort}`, '    health: { http: /health, interval: 500ms }'] : []), '  web:', '    command: node server.js', `    port: ${webPort}`, ''].join('\n');
  const dir = makeProject({ 'server.js': SERVER_JS, 'machineroom.yml': config(true) });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const status = JSON.parse((await runCli(['ps', '--json'], { cwd: dir })).stdout) as { services: { name: string; address?: string }[] };
  const address = new URL(status.services.find((s) => s.name === 'api')!.address!);
  assert.equal(Number(address.port), apiPort);
  writeFileSync(join(dir, 'machineroom.yml'), config(false));
  const again = await runCli(['up', '-d'], { cwd: dir });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  // Bound exclusively at once: no process of the front door (daemon or worker) still holds the socket.
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: address.hostname, port: apiPort, exclusive: true }, () => server.close(() => resolve()));
  });
});
