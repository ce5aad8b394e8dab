// The bus's CLI verbs against a running project: services, resolve, kv get/put/ls/delete/watch.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeProject, runCli, cliJson, cleanupProject, startCli, waitFor, SERVER_JS } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import type { RoomStatus } from '../../src/client/index.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

test('services, resolve and kv from the command line', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `services:\n  web:\n    command: node server.js\n    replicas: 2\n    port: ${port}\n    tags: [blue]\n    health: { http: /health, interval: 1s }\n`,
  });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  const status = await cliJson<RoomStatus>(['ps', '--json'], dir);
  const addrs = status.instances.map((i) => i.address!).sort();

  const services = await waitFor('web passing in `services`', async () => {
    const r = await cliJson<{ name: string; instances: number; passing: number; tags: string[] }[]>(['services', '--json'], dir);
    const web = r.find((s) => s.name === 'web');
    return web && web.passing === 2 ? r : undefined;
  });
  assert.ok(services.some((s) => s.name === 'consul'), 'the consul service is in the catalog');
  assert.deepEqual(services.find((s) => s.name === 'web')!.tags, ['blue']);

  const a = await runCli(['resolve', 'web.service.consul'], { cwd: dir });
  assert.equal(a.code, 0, a.stderr);
  for (const addr of addrs) assert.match(a.stdout, new RegExp(`A ${addr.replace(/\./g, '\\.')}`));
  const srv = await runCli(['resolve', '_web._blue.service.consul', '--type', 'SRV', '--tcp'], { cwd: dir });
  assert.equal(srv.code, 0, srv.stderr);
  assert.equal((srv.stdout.match(new RegExp(`SRV 1 1 ${port} `, 'g')) ?? []).length, 2, srv.stdout);
  const nx = await runCli(['resolve', 'nosuch.service.consul'], { cwd: dir });
  assert.equal(nx.code, 1);
  assert.match(nx.stdout, /NXDOMAIN/);

  const watch = startCli(['kv', 'watch', 'app/', '--recurse'], { cwd: dir });
  await waitFor('the watch to print its first state', () => /no key "app\/"/.test(watch.output()));
  assert.equal((await runCli(['kv', 'put', 'app/color', 'green'], { cwd: dir })).code, 0);
  assert.equal((await runCli(['kv', 'put', 'app/size', 'large'], { cwd: dir })).code, 0);
  assert.equal((await runCli(['kv', 'get', 'app/color'], { cwd: dir })).stdout.trim(), 'green');
  assert.deepEqual((await runCli(['kv', 'ls'], { cwd: dir })).stdout.trim().split('\n'), ['app/']);
  assert.deepEqual((await runCli(['kv', 'ls', 'app/'], { cwd: dir })).stdout.trim().split('\n'), ['app/color', 'app/size']);
  const cas = await runCli(['kv', 'put', 'app/color', 'red', '--cas', '1'], { cwd: dir });
  assert.equal(cas.code, 1, 'a stale check-and-set is refused');
  assert.equal((await runCli(['kv', 'delete', 'app/', '--recurse'], { cwd: dir })).code, 0);
  await waitFor('the watch to see set, set, delete', () => /app\/color = green[\s\S]*app\/size = large[\s\S]*no key "app\/"[\s\S]*no key "app\/"/.test(watch.output()) || /app\/size = large[\s\S]*\(no key "app\/"\)\s*$/.test(watch.output()));
  const exited = new Promise<number | null>((r) => watch.child.once('exit', (c) => r(c)));
  watch.child.kill('SIGINT');
  assert.equal(await exited, 0);
  const missing = await runCli(['kv', 'get', 'app/color'], { cwd: dir });
  assert.equal(missing.code, 1);
});
