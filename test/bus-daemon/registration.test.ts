// Issue 3 acceptance (registration): scaling 1→5→2 shows in catalog/service and health/service?passing; an instance
// sees its own deregistration before it gets SIGTERM; every machine is a node in the catalog and in DNS; kv seeds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli, cliJson, cleanupProject, waitFor } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import type { RoomStatus } from '../../src/client/index.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

// An app that asks the bus (via CONSUL_HTTP_ADDR) whether it is still registered when SIGTERM arrives.
const APP = `
const http = require('http');
const id = process.env.MR_INSTANCE_ID.split(':').pop();
const s = http.createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => {
  http.get('http://' + process.env.CONSUL_HTTP_ADDR + '/v1/agent/service/' + encodeURIComponent(id), (res) => {
    console.log('on SIGTERM my registration answers ' + res.statusCode);
    res.resume();
    res.on('end', () => { s.close(); process.exit(0); });
  }).on('error', (e) => { console.log('on SIGTERM the bus is unreachable: ' + e.message); process.exit(0); });
});
`;

function daemonPorts(dir: string): { apiPort: number; dnsPort: number } {
  return JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { apiPort: number; dnsPort: number };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return (await res.json()) as T;
}

test('scaling 1→5→2 shows in catalog/service and health/service?passing; machines are nodes in the catalog and DNS', async () => {
  const port = await freePort();
  const dir = makeProject({
    'app.js': APP,
    'machineroom.yml': `name: regtest\nkv:\n  app/greeting: hello\nsecrets: [app/secret]\nservices:\n  web:\n    command: node app.js\n    port: ${port}\n    tags: [development]\n    health: { http: /, interval: 500ms }\n`,
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir, env: { ...process.env, MACHINEROOM_API_PORT: '0', MACHINEROOM_DNS_PORT: '0', NO_COLOR: '1' } });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const { apiPort, dnsPort } = daemonPorts(dir);
  const api = `http://127.0.0.1:${apiPort}/v1`;

  const count = async (n: number) => {
    await waitFor(`${n} web instances in catalog and passing`, async () => {
      const cat = await getJson<{ ServiceID: string; ServiceTags: string[] }[]>(`${api}/catalog/service/web`);
      const passing = await getJson<unknown[]>(`${api}/health/service/web?passing`);
      return cat.length === n && passing.length === n && cat.every((c) => c.ServiceTags.includes('development'));
    });
  };
  await count(1);
  assert.equal((await runCli(['scale', 'web=5'], { cwd: dir })).code, 0);
  await count(5);
  assert.equal((await runCli(['scale', 'web=2'], { cwd: dir })).code, 0);
  await count(2);

  const status = await cliJson<RoomStatus>(['ps', '--json'], dir);
  const nodes = await getJson<{ Node: string; Address: string }[]>(`${api}/catalog/nodes`);
  for (const i of status.instances) {
    assert.ok(nodes.some((n) => n.Node === i.machine && n.Address === i.address), `${i.machine} is a catalog node`);
    const dig = execFileSync('dig', ['@127.0.0.1', '-p', String(dnsPort), `${i.machine}.node.consul`, 'A', '+short', '+tries=1', '+time=2'], { encoding: 'utf8' }).trim();
    assert.equal(dig, i.address, `${i.machine}.node.consul answers its address`);
  }
  const svc = execFileSync('dig', ['@127.0.0.1', '-p', String(dnsPort), 'web.service.consul', 'A', '+short', '+tries=1', '+time=2'], { encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(svc, status.instances.map((i) => i.address!).sort());

  // kv seeds were written; `kv get` reads them; an instance got CONSUL_HTTP_ADDR.
  const kv = await runCli(['kv', 'get', 'app/greeting'], { cwd: dir });
  assert.equal(kv.stdout.trim(), 'hello');
  const env = await runCli(['exec', 'web.1', '--', 'sh', '-c', 'echo $CONSUL_HTTP_ADDR'], { cwd: dir });
  assert.equal(env.stdout.trim(), `127.0.0.1:${apiPort}`);

  // A seed never overwrites: `up` with a different seed keeps the stored value and says so.
  assert.equal((await runCli(['kv', 'put', 'app/greeting', 'changed by hand'], { cwd: dir })).code, 0);
  const again = await runCli(['up', '-d'], { cwd: dir });
  assert.match(again.stdout, /kv: app\/greeting differs from its seed/);
  assert.equal((await runCli(['kv', 'get', 'app/greeting'], { cwd: dir })).stdout.trim(), 'changed by hand');

  // Secret values are masked unless --reveal.
  assert.equal((await runCli(['kv', 'put', 'app/secret/db', 's3cret'], { cwd: dir })).code, 0);
  assert.equal((await runCli(['kv', 'get', 'app/secret/db'], { cwd: dir })).stdout.trim(), '********');
  assert.equal((await runCli(['kv', 'get', 'app/secret/db', '--reveal'], { cwd: dir })).stdout.trim(), 's3cret');

  // An instance is deregistered before it is signalled: its own registration is gone (404) when SIGTERM arrives.
  assert.equal((await runCli(['scale', 'web=1'], { cwd: dir })).code, 0);
  await waitFor('web.2 reports what it saw on SIGTERM', async () => /on SIGTERM my registration answers/.test((await runCli(['logs', 'web.2'], { cwd: dir })).stdout));
  const logs = (await runCli(['logs', 'web.2'], { cwd: dir })).stdout;
  assert.match(logs, /on SIGTERM my registration answers 404/);
});
