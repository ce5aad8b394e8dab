// Acceptance: nothing outlives the daemon: SIGKILL of the daemon (even a setsid grandchild, as root), and SIGINT to attached up.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workerCount } from '../../src/daemon/start-front-door.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { alive, childrenWith, makeProject, runCli, cliJson, cleanupProject, scanInstances, startCli, testEnv, waitFor, SERVER_JS } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import type { RoomStatus } from '../../src/client/index.js';

const dirs: string[] = [];
const strays: number[] = [];
after(async () => {
  for (const p of strays) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const d of dirs) await cleanupProject(d);
});

const isRoot = process.getuid?.() === 0;


test('SIGKILL to the daemon: its instances (and, as root, a setsid grandchild) are gone soon, and down finds nothing', async () => {
  const port = await freePort();
  // The grandchild leaves the instance's session and process group, and clears its environment: only a cgroup catches it.
  const spawner = `
const { spawn } = require('child_process');
const g = spawn('setsid', ['env', '-i', 'sleep', '300'], { stdio: 'ignore', detached: false });
require('fs').writeFileSync('grandchild.pid', String(g.pid));
require('./server.js');
`;
  const dir = makeProject({
    'server.js': SERVER_JS,
    'spawner.js': spawner,
    'machineroom.yml': `services:\n  web:\n    command: node server.js\n    replicas: 3\n    port: ${port}\n    health: { tcp: true, interval: 1s }\n  spawner:\n    command: node spawner.js\n    port: ${port}\n    health: { tcp: true, interval: 1s }\n`,
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const status = await cliJson<RoomStatus>(['ps', '--json'], dir);
  assert.equal(status.instances.length, 4);
  const grandchild = Number(await waitFor('grandchild pid file', () => readFileSync(join(dir, 'grandchild.pid'), 'utf8')));
  strays.push(grandchild);
  assert.ok(alive(grandchild), 'the grandchild runs');
  const daemon = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { pid: number };
  assert.equal(scanInstances(dir).size, 4);
  // The front door's proxy workers (one per core beyond the first) are the daemon's children too.
  // front_door.workers: auto forks one per core beyond the first, shortly after start-up.
  const expected = workerCount('auto');
  const workers = await waitFor('the front door workers', () => {
    const w = childrenWith(daemon.pid, 'worker-main.js');
    return w.length === expected ? w : undefined;
  });
  strays.push(...workers);

  process.kill(daemon.pid, 'SIGKILL');
  await waitFor('the front door workers gone after the daemon was SIGKILLed', () => workers.every((p) => !alive(p)), 20_000);
  await waitFor('every instance gone after the daemon was SIGKILLed', () => scanInstances(dir).size === 0 && status.instances.every((i) => !alive(i.pid!)), 20_000);
  if (isRoot) await waitFor('the setsid grandchild gone too (cgroup)', () => !alive(grandchild), 20_000);

  const down = await runCli(['down'], { cwd: dir });
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /nothing to stop/);
});

test('SIGINT to an attached up stops everything and leaves no process behind', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `services:\n  web:\n    command: node server.js\n    replicas: 2\n    port: ${port}\n    health: { http: /health, interval: 1s }\n  worker:\n    command: ["sh", "-c", "trap 'echo worker got TERM; exit 0' TERM; while true; do sleep 0.2; done"]\n    depends_on: { web: { condition: healthy } }\n`,
  });
  dirs.push(dir);
  const up = startCli(['up'], { cwd: dir });
  await waitFor('attached up to show the summary', () => /SERVICE +READY/.test(up.output()), 60_000);
  const token = readFileSync(join(dir, '.machineroom', 'token'), 'utf8').trim();
  assert.match(up.output(), new RegExp(`^dashboard http://127\\.0\\.0\\.1:\\d+/ui/login\\?token=${token}$`, 'm'), 'the foreground view prints the dashboard link');
  await waitFor('3 instances running', () => scanInstances(dir).size >= 3, 30_000);
  const exited = new Promise<number | null>((r) => up.child.once('exit', (code) => r(code)));
  up.child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 0, up.output());
  assert.equal(scanInstances(dir).size, 0, 'no instance outlives the attached up');
  const out = up.output();
  assert.match(out, /stopping every instance/);
  // Dependents stop before what they depend on.
  const workerStopped = out.indexOf('worker.1 stopped');
  const webStopping = out.indexOf('web.1 stopping');
  assert.ok(workerStopped >= 0 && webStopping > workerStopped, `worker stops before web:\n${out}`);
});

test('Ctrl-C in a terminal (SIGINT to the whole process group of an attached up) stops everything cleanly', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `services:\n  web:\n    command: node server.js\n    port: ${port}\n    health: { http: /health, interval: 1s }\n`,
  });
  dirs.push(dir);
  // Its own process group, as a shell's foreground job is: the signal reaches the CLI, its daemon and the workers.
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../../bin/machineroom.js', import.meta.url)), 'up'], { cwd: dir, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  strays.push(child.pid!);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor('attached up to show the summary', () => /SERVICE +READY/.test(out), 60_000);
  const daemonPid = (JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { pid: number }).pid;
  const expected = workerCount('auto');
  const workers = await waitFor('the front door workers', () => {
    const w = childrenWith(daemonPid, 'worker-main.js');
    return w.length === expected ? w : undefined;
  });
  process.kill(-child.pid!, 'SIGINT');
  assert.equal(await exited, 0, out);
  assert.equal(scanInstances(dir).size, 0, 'no instance outlives Ctrl-C');
  await waitFor('the front door workers gone', () => workers.every((p) => !alive(p)), 20_000);
  assert.doesNotMatch(out, /front door worker \d+ exited/, 'workers leave with the daemon, not on the terminal signal');
  assert.doesNotMatch(out, /EPIPE/);
});
