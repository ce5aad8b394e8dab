// The front door's proxy workers: every process serves the same routes, counters are merged across them, a killed
// worker is replaced (its connections fail, new ones are served), and `down` leaves none behind.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { alive, childrenWith, frontDoorStatus, makeProject, runCli, cleanupProject, waitFor, SERVER_JS } from '../support/cli.js';
import { freePort } from '../support/ports.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

const workersOf = (daemonPid: number): number[] => childrenWith(daemonPid, 'worker-main.js');

test('front door workers: merged counters, a killed worker replaced, none left after down', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `name: workertest\nfront_door: { workers: 2 }\nservices:\n  web:\n    command: node server.js\n    replicas: 2\n    port: ${port}\n    health: { http: /health, interval: 500ms }\n`,
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const record = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { pid: number; httpPort: number; apiPort: number };
  const workers = await waitFor('two proxy workers', () => {
    const w = workersOf(record.pid);
    return w.length === 2 ? w : undefined;
  });

  // Every request is counted once, whichever process served it.
  await waitFor('web answers', async () => (await frontDoorStatus(record.httpPort, 'web.localhost')) === 200);
  const before = await traffic(record.apiPort);
  const N = 200;
  for (let i = 0; i < N; i++) assert.equal(await frontDoorStatus(record.httpPort, 'web.localhost'), 200);
  const after = await traffic(record.apiPort);
  assert.equal(after - before, N, 'the traffic report merges every process counters exactly');

  // A worker killed: another takes its place, and the front door keeps answering meanwhile.
  process.kill(workers[0]!, 'SIGKILL');
  for (let i = 0; i < 20; i++) assert.equal(await frontDoorStatus(record.httpPort, 'web.localhost'), 200, 'served while a worker is replaced');
  const replaced = await waitFor('a replacement worker', () => {
    const w = workersOf(record.pid);
    return w.length === 2 && !w.includes(workers[0]!) ? w : undefined;
  });
  const events = (await runCli(['events'], { cwd: dir })).stdout;
  assert.match(events, /front door worker \d+ exited \(SIGKILL\); starting another/);
  for (let i = 0; i < 20; i++) assert.equal(await frontDoorStatus(record.httpPort, 'web.localhost'), 200);

  assert.equal((await runCli(['down'], { cwd: dir })).code, 0);
  await waitFor('no worker after down', () => replaced.every((p) => !alive(p)));
});

async function traffic(apiPort: number): Promise<number> {
  const t = (await (await fetch(`http://127.0.0.1:${apiPort}/v1/machineroom/traffic`)).json()) as { instances: Array<{ service: string; requests: number }> };
  return t.instances.filter((i) => i.service === 'web').reduce((n, i) => n + i.requests, 0);
}

test('connections arriving while workers start are all answered (none accepted and left hanging)', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `name: workerstart\nfront_door: { workers: 2 }\nservices:\n  web:\n    command: node server.js\n    port: ${port}\n`,
  });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d'], { cwd: dir })).code, 0);
  const record = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { pid: number; httpPort: number };
  await waitFor('web answers', async () => (await frontDoorStatus(record.httpPort, 'web.localhost').catch(() => 0)) === 200);
  // Fresh connections, four at a time, from before the workers exist until a while after both are up.
  let hung = 0;
  let ok = 0;
  let workersSeenAt = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: record.httpPort, path: '/', headers: { host: 'web.localhost' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          resolve();
        });
      });
      req.setTimeout(3000, () => {
        hung++;
        req.destroy();
      });
      req.on('error', () => resolve());
      req.end();
    });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await Promise.all([one(), one(), one(), one()]);
    if (!workersSeenAt && childrenWith(record.pid, 'worker-main.js').length === 2) workersSeenAt = Date.now();
    if (workersSeenAt && Date.now() - workersSeenAt > 1500) break;
  }
  assert.ok(workersSeenAt > 0, 'both workers started');
  assert.equal(hung, 0, `requests left hanging while workers started (${ok} answered)`);
  assert.ok(ok > 100, `traffic flowed: ${ok}`);
});
