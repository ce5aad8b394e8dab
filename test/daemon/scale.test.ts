// Acceptance: replicas on the same port at their own addresses; scale 3 → 6 → 1; ps --json agrees with /proc.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeProject, runCli, cliJson, cleanupProject, scanInstances, waitFor, SERVER_JS } from '../support/cli.js';
import { freePort, httpGet } from '../support/ports.js';
import type { RoomStatus } from '../../src/client/index.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

async function agreesWithProc(dir: string, expected: number): Promise<RoomStatus> {
  // Poll until the daemon's view and the kernel's view agree on exactly `expected` instances.
  let last = '';
  return waitFor(`ps --json and /proc to agree on ${expected} instances`, async () => {
    const status = await cliJson<RoomStatus>(['ps', '--json'], dir);
    const running = status.instances.filter((i) => i.state === 'running' && i.health === 'passing');
    // An instance may be several processes (a shell, workers): group the kernel's view by instance id.
    const scan = new Map<string, number[]>();
    for (const [pid, id] of scanInstances(dir)) scan.set(id, [...(scan.get(id) ?? []), pid]);
    last = JSON.stringify({ ps: running.map((i) => [i.instanceId, i.pid]), proc: [...scan] });
    if (status.instances.length !== expected || running.length !== expected || scan.size !== expected) return undefined;
    for (const i of running) if (!scan.get(i.instanceId)?.includes(i.pid!)) return undefined;
    return status;
  }, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; ${last}`);
  });
}

test('replicas listen on one port at their own addresses, and scale up and down without touching the others', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `name: scaletest\nservices:\n  web:\n    command: node server.js\n    replicas: 3\n    port: ${port}\n    health:\n      http: /health\n      interval: 1s\n`,
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);

  let status = await agreesWithProc(dir, 3);
  const addresses = new Set(status.instances.map((i) => i.address));
  assert.equal(addresses.size, 3, 'every instance has its own address');
  for (const i of status.instances) {
    assert.equal(i.ports.default ?? Object.values(i.ports)[0], port, 'every replica uses the configured port');
    const res = await httpGet(`http://${i.address}:${port}/`);
    assert.ok(res, `${i.name} answers at ${i.address}:${port}`);
    assert.equal(JSON.parse(res.body).id, i.instanceId, `${i.address}:${port} is ${i.name}`);
  }
  const firstPids = new Map(status.instances.map((i) => [i.name, i.pid]));

  assert.equal((await runCli(['scale', 'web=6'], { cwd: dir })).code, 0);
  status = await agreesWithProc(dir, 6);
  assert.deepEqual(status.instances.map((i) => i.name), ['web.1', 'web.2', 'web.3', 'web.4', 'web.5', 'web.6']);
  for (const [name, pid] of firstPids) assert.equal(status.instances.find((i) => i.name === name)?.pid, pid, `${name} untouched by scale-up`);

  assert.equal((await runCli(['scale', 'web=1'], { cwd: dir })).code, 0);
  status = await agreesWithProc(dir, 1);
  assert.equal(status.instances[0]?.name, 'web.1', 'scale-down stops the highest-numbered first');
  assert.equal(status.instances[0]?.pid, firstPids.get('web.1'), 'web.1 untouched by scale-down');

  const down = await runCli(['down'], { cwd: dir });
  assert.equal(down.code, 0, down.stderr);
  await waitFor('no instance left after down', () => scanInstances(dir).size === 0, 15_000);
});

test('port mode: each replica gets its own port on 127.0.0.1', async () => {
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `name: portmode\nmachines: port\nservices:\n  web:\n    command: node server.js\n    replicas: 3\n    port: 3000\n    health:\n      http: /health\n      interval: 1s\n`,
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const status = await agreesWithProc(dir, 3);
  const ports = status.instances.map((i) => Object.values(i.ports)[0]!);
  assert.equal(new Set(ports).size, 3, 'three different ports');
  for (const i of status.instances) {
    assert.equal(i.address, '127.0.0.1');
    const port = Object.values(i.ports)[0]!;
    assert.ok(port < 32768, 'below the ephemeral range');
    const res = await httpGet(`http://127.0.0.1:${port}/`);
    assert.equal(JSON.parse(res!.body).id, i.instanceId);
  }
});
