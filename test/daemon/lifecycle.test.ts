// The daemon's lifecycle: `up` on a running project touches only changed services; scale overrides persist until
// replicas: changes; depends_on conditions order start-up; builds feed the version; restart/stop/start; exec and run.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli, cliJson, cleanupProject, waitFor, SERVER_JS } from '../support/cli.js';
import { freePort, httpGet } from '../support/ports.js';
import type { RoomStatus } from '../../src/client/index.js';
import type { MachineroomEvent } from '../../src/supervisor/index.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

const status = (dir: string) => cliJson<RoomStatus>(['ps', '--json'], dir);
const pidsOf = (s: RoomStatus, service: string) => s.instances.filter((i) => i.service === service).map((i) => i.pid);
async function events(dir: string): Promise<MachineroomEvent[]> {
  const r = await runCli(['events', '--json'], { cwd: dir });
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as MachineroomEvent);
}

test('up on a running project reconciles: only services whose spec changed are recreated; scale holds until replicas: changes', async () => {
  const port = await freePort();
  const yml = (workerEnv: string, webReplicas: number) =>
    `services:\n  web:\n    command: node server.js\n    replicas: ${webReplicas}\n    port: ${port}\n    health: { http: /health, interval: 1s }\n  worker:\n    command: sleep 300\n    env: { MODE: ${workerEnv} }\n`;
  const dir = makeProject({ 'server.js': SERVER_JS, 'machineroom.yml': yml('one', 2) });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  const s1 = await status(dir);
  const workerVersion = s1.instances.find((i) => i.service === 'worker')!.version;

  writeFileSync(join(dir, 'machineroom.yml'), yml('two', 2));
  const again = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already up; recreating worker/);
  const s2 = await status(dir);
  assert.deepEqual(pidsOf(s2, 'web'), pidsOf(s1, 'web'), 'web was not touched');
  assert.notDeepEqual(pidsOf(s2, 'worker'), pidsOf(s1, 'worker'), 'worker was recreated');
  assert.notEqual(s2.instances.find((i) => i.service === 'worker')!.version, workerVersion, 'a new version');

  assert.equal((await runCli(['scale', 'web=3'], { cwd: dir })).code, 0);
  await waitFor('3 web instances', async () => (await status(dir)).instances.filter((i) => i.service === 'web' && i.state === 'running').length === 3);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  assert.equal((await status(dir)).instances.filter((i) => i.service === 'web').length, 3, 'the scale holds across an unchanged up');
  writeFileSync(join(dir, 'machineroom.yml'), yml('two', 1));
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  await waitFor('replicas: 1 in the file wins over the earlier scale', async () => (await status(dir)).instances.filter((i) => i.service === 'web').length === 1);
});

test('depends_on orders start-up: started, healthy, completed', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': [
      'services:',
      '  migrate:',
      '    command: "echo migrating; sleep 0.3; echo migrated"',
      '    restart: "no"',
      '  db:',
      '    command: node server.js',
      `    port: ${port}`,
      '    health: { http: /health, interval: 1s }',
      '  app:',
      '    command: sleep 300',
      '    depends_on:',
      '      migrate: { condition: completed }',
      '      db: healthy',
      '  sidecar:',
      '    command: sleep 300',
      '    depends_on: [app]',
      '',
    ].join('\n'),
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const ev = await events(dir);
  const at = (type: string, instance: string) => ev.findIndex((e) => e.type === type && e.instance === instance);
  assert.ok(at('exited', 'migrate.1') >= 0 && at('exited', 'migrate.1') < at('starting', 'app.1'), 'app starts after migrate completed');
  assert.ok(at('healthy', 'db.1') >= 0 && at('healthy', 'db.1') < at('starting', 'app.1'), 'app starts after db is healthy');
  assert.ok(at('started', 'app.1') < at('starting', 'sidecar.1'), 'sidecar starts after app started');
  const s = await status(dir);
  assert.equal(s.instances.find((i) => i.name === 'migrate.1')?.state, 'exited');
  assert.equal(s.instances.find((i) => i.name === 'migrate.1')?.lastExit?.code, 0);
});

test('a build runs before start and its outputs feed the version; a failed build keeps the old instances serving', async () => {
  const port = await freePort();
  const yml = (text: string) =>
    `services:\n  web:\n    command: node server.js\n    port: ${port}\n    build: { command: "echo building; echo ${text} > out.txt", outputs: [out.txt] }\n    health: { http: /health, interval: 1s }\n`;
  const dir = makeProject({ 'server.js': SERVER_JS, 'machineroom.yml': yml('v1') });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8').trim(), 'v1');
  const v1 = (await status(dir)).instances[0]!;
  const logs = await runCli(['logs', 'web'], { cwd: dir });
  assert.match(logs.stdout, /web\.build +\| building/);

  writeFileSync(join(dir, 'machineroom.yml'), yml('v2'));
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  const v2 = await waitFor('the v2 instance', async () => {
    const i = (await status(dir)).instances[0];
    return i && i.version !== v1.version && i.state === 'running' ? i : undefined;
  });
  assert.notEqual(v2.pid, v1.pid);

  writeFileSync(join(dir, 'machineroom.yml'), yml('v3; exit 3'));
  await runCli(['up', '-d'], { cwd: dir });
  await waitFor('the build failure event', async () => (await events(dir)).some((e) => e.type === 'build' && /build failed: exited 3/.test(e.message)));
  const still = (await status(dir)).instances[0]!;
  assert.equal(still.pid, v2.pid, 'the old instance keeps serving after a failed build');
  assert.ok(await httpGet(`http://${still.address}:${port}/`));
});

test('an app that binds 0.0.0.0 instead of $HOST is reported (port mode: it runs, with a warning)', async () => {
  const port = await freePort();
  const dir = makeProject({
    'wild.js': `require('http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '0.0.0.0');`,
    'machineroom.yml': `machines: port\nservices:\n  wild:\n    command: node wild.js\n    port: ${port}\n`,
  });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  const i = await waitFor('the wildcard warning', async () => (await status(dir)).instances.find((x) => x.warning?.includes('0.0.0.0')));
  assert.match(i.warning!, /listens on 0\.0\.0\.0:\d+; bind \$HOST/);
  const ps = await runCli(['ps'], { cwd: dir });
  assert.match(ps.stdout, /listens on 0\.0\.0\.0/);
  assert.ok((await events(dir)).some((e) => e.type === 'listen' && e.instance === 'wild.1'));
});

test('loopback mode: an app that binds 0.0.0.0 cannot share its port with the service address, and is told to bind $HOST', async () => {
  const port = await freePort();
  const dir = makeProject({
    'wild.js': `require('http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '0.0.0.0');`,
    'machineroom.yml': `services:\n  wild:\n    command: node wild.js\n    port: ${port}\n`,
  });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d'], { cwd: dir })).code, 0);
  const i = await waitFor('the bind conflict advice', async () => (await status(dir)).instances.find((x) => x.warning?.startsWith('cannot bind')));
  assert.match(i.warning!, new RegExp(`cannot bind 0\\.0\\.0\\.0:${port} .*bind \\$HOST \\(127\\.`));
  assert.match((await runCli(['ps'], { cwd: dir })).stdout, /cannot bind 0\.0\.0\.0/);
  assert.ok((await events(dir)).some((e) => e.type === 'listen' && e.instance === 'wild.1' && /bind \$HOST/.test(e.message)));
});

test('restart SERVICE.N, stop and start, exec and run', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `services:\n  web:\n    command: node server.js\n    replicas: 2\n    port: ${port}\n    env: { GREETING: hi }\n    health: { http: /health, interval: 1s }\n`,
  });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  const s1 = await status(dir);
  assert.equal((await runCli(['restart', 'web.2'], { cwd: dir })).code, 0);
  const s2 = await waitFor('web.2 restarted', async () => {
    const s = await status(dir);
    return s.instances.find((i) => i.name === 'web.2')?.restarts === 1 && s.instances.every((i) => i.state === 'running') ? s : undefined;
  });
  assert.equal(s2.instances[0]!.pid, s1.instances[0]!.pid, 'web.1 untouched');
  assert.notEqual(s2.instances[1]!.pid, s1.instances[1]!.pid);

  const exec = await runCli(['exec', 'web.1', '--', 'sh', '-c', 'echo "$HOST:$PORT $MR_INSTANCE_ID $GREETING"; exit 7'], { cwd: dir });
  assert.equal(exec.code, 7, 'exec exits with the command’s code');
  assert.equal(exec.stdout.trim(), `${s2.instances[0]!.address}:${port} ${s2.instances[0]!.instanceId} hi`);

  const run = await runCli(['run', 'web', '--', 'sh', '-c', 'echo "$MR_MACHINE $HOST $GREETING"'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const [machine, host, greeting] = run.stdout.trim().split(' ');
  assert.match(machine!, /^web-run-\d+$/);
  assert.ok(!s2.instances.some((i) => i.address === host), 'a one-off gets a machine of its own');
  assert.equal(greeting, 'hi');

  assert.equal((await runCli(['stop', 'web'], { cwd: dir })).code, 0);
  assert.equal((await status(dir)).instances.length, 0);
  assert.equal((await runCli(['start', 'web'], { cwd: dir })).code, 0);
  await waitFor('web back', async () => (await status(dir)).instances.filter((i) => i.state === 'running').length === 2);

  const bad = await runCli(['restart', 'nosuch'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no service "nosuch"/);
});
