// Acceptance: restart with backoff after SIGKILL; a command that exits 1 at once shows growing backoff and a crash loop;
// a failing health check shows the instance unhealthy, and `up --wait` exits 1 naming it and the check output.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeProject, runCli, cliJson, cleanupProject, waitFor, SERVER_JS } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import type { RoomStatus } from '../../src/client/index.js';
import type { MachineroomEvent } from '../../src/supervisor/index.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

const status = (dir: string) => cliJson<RoomStatus>(['ps', '--json'], dir);

async function events(dir: string): Promise<MachineroomEvent[]> {
  const r = await runCli(['events', '--json'], { cwd: dir });
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as MachineroomEvent);
}

test('an instance killed with SIGKILL is restarted with backoff', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `services:\n  web:\n    command: [node, server.js]\n    port: ${port}\n    restart: { policy: on-failure, backoff: 300ms, max_backoff: 5s }\n    health: { http: /health, interval: 1s }\n`,
  });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  const before = (await status(dir)).instances[0]!;
  process.kill(before.pid!, 'SIGKILL');
  const after1 = await waitFor('web.1 restarted', async () => {
    const i = (await status(dir)).instances[0]!;
    return i.restarts === 1 && i.state === 'running' && i.pid !== before.pid ? i : undefined;
  });
  assert.equal(after1.lastExit?.signal, 'SIGKILL');
  const ev = await events(dir);
  const order = ev.filter((e) => e.instance === 'web.1').map((e) => e.type);
  const exited = order.lastIndexOf('exited');
  assert.ok(exited >= 0 && order.indexOf('restarting', exited) > exited && order.indexOf('started', exited) > exited, `exited → restarting → started, got ${order.join(',')}`);
  assert.match(ev.find((e) => e.type === 'restarting')!.message, /restarting in 300ms/);
});

test('a command that exits 1 at once backs off more each time and shows a crash loop', async () => {
  const dir = makeProject({
    'machineroom.yml': `services:\n  broken:\n    command: "echo starting; echo 'cannot open config' >&2; exit 1"\n    restart: { policy: on-failure, backoff: 100ms, max_backoff: 2s }\n`,
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d'], { cwd: dir });
  assert.equal(up.code, 0, up.stderr);
  const crash = await waitFor('crashloop state in ps', async () => {
    const i = (await status(dir)).instances[0];
    return i?.state === 'crashloop' ? i : undefined;
  });
  assert.equal(crash.lastExit?.code, 1);
  await waitFor('four restarts', async () => ((await status(dir)).instances[0]?.restarts ?? 0) >= 4);
  const delays = (await events(dir))
    .filter((e) => e.type === 'restarting')
    .map((e) => /restarting in ([\d.]+)(ms|s)/.exec(e.message))
    .map((m) => (m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : NaN));
  assert.ok(delays.length >= 4, `restart delays: ${delays.join(', ')}`);
  for (let k = 1; k < delays.length; k++) assert.ok(delays[k]! >= delays[k - 1]!, `backoff grows: ${delays.join(', ')}`);
  assert.ok(delays[3]! > delays[0]!, `backoff grows: ${delays.join(', ')}`);
  assert.ok(delays.every((d) => d <= 2000), 'capped at max_backoff');
  const logs = await runCli(['logs', 'broken'], { cwd: dir });
  assert.match(logs.stdout, /broken\.1 +! cannot open config/, 'stderr lines are marked');
  assert.match(logs.stdout, /broken\.1 +\| starting/);
});

test('a failing health check shows the instance unhealthy, and up --wait exits 1 naming it and the check output', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `services:\n  api:\n    command: node server.js\n    port: ${port}\n    env: { FAIL_HEALTH: "1" }\n    health: { http: /health, interval: 200ms, failure_threshold: 2, start_period: 3s }\n`,
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait', '--wait-timeout', '60s'], { cwd: dir });
  assert.equal(up.code, 1, up.stdout + up.stderr);
  assert.match(up.stderr, /api\.1/);
  assert.match(up.stderr, /500/);
  assert.match(up.stderr, /database unreachable/);
  const i = (await status(dir)).instances[0]!;
  assert.equal(i.state, 'running', 'a readiness check does not restart the instance');
  assert.equal(i.health, 'critical');
  assert.match(i.healthOutput ?? '', /database unreachable/);
});

test('health.restart: true restarts an instance whose check turns critical after it was healthy', async () => {
  const port = await freePort();
  // Healthy until the file "sick" appears in its directory.
  const app = `const fs = require('fs');
require('http').createServer((q, s) => { s.statusCode = fs.existsSync('sick') ? 500 : 200; s.end(s.statusCode === 200 ? 'ok' : 'sick'); })
  .listen(Number(process.env.PORT), process.env.HOST);`;
  const dir = makeProject({
    'app.js': app,
    'machineroom.yml': `services:\n  app:\n    command: node app.js\n    port: ${port}\n    health: { http: /, interval: 200ms, failure_threshold: 2, restart: true }\n`,
  });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  const first = (await status(dir)).instances[0]!;
  const { writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  writeFileSync(join(dir, 'sick'), '');
  await waitFor('the restart on a critical check', async () => (await events(dir)).some((e) => e.type === 'restarting' && /health\.restart/.test(e.message)));
  rmSync(join(dir, 'sick'));
  const again = await waitFor('a new healthy process', async () => {
    const i = (await status(dir)).instances[0]!;
    return i.pid !== first.pid && i.health === 'passing' ? i : undefined;
  });
  assert.ok(again.restarts >= 1);
});
