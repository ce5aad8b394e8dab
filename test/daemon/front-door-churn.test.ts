// Issue 4 acceptance 3 (in a test): under continuous load from a second process, scaling 1→8→1 twice loses no request:
// planned stops deregister, let in-flight requests finish, then signal.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli, cliJson, cleanupProject, waitFor, ROOT, SERVER_JS } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import type { RoomStatus } from '../../src/client/index.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) await cleanupProject(d);
});

test('scaling 1→8→1 twice under continuous load loses no request', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `name: churn\nservices:\n  web:\n    command: node server.js\n    port: ${port}\n    stop_grace: 5s\n    health: { http: /health, interval: 200ms }\n`,
  });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  const httpPort = (JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { httpPort: number }).httpPort;

  const load = spawn(process.execPath, [join(ROOT, 'test/fixtures/load/load.mjs'), String(httpPort), 'web.localhost', '16'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(load);
  let out = '';
  load.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor('the load generator to start', () => out.includes('ready'));

  const count = async (n: number) =>
    waitFor(`${n} healthy instances`, async () => {
      const s = await cliJson<RoomStatus>(['ps', '--json'], dir);
      return s.instances.length === n && s.instances.every((i) => i.state === 'running' && i.health === 'passing');
    }, 60_000);
  for (let round = 0; round < 2; round++) {
    assert.equal((await runCli(['scale', 'web=8'], { cwd: dir })).code, 0);
    await count(8);
    assert.equal((await runCli(['scale', 'web=1'], { cwd: dir })).code, 0);
    await count(1);
  }
  const done = new Promise<void>((r) => load.once('exit', () => r()));
  load.kill('SIGTERM');
  await done;
  const report = JSON.parse(out.split('\n').filter(Boolean).pop()!) as { ok: number; bad: number; errors: number; rps: number; samples: unknown[] };
  process.stdout.write(`# churn load: ${JSON.stringify(report)}\n`);
  assert.ok(report.ok > 1000, `enough traffic went through: ${report.ok}`);
  assert.equal(report.bad, 0, `no non-2xx answers: ${JSON.stringify(report.samples)}`);
  assert.equal(report.errors, 0, `no socket errors: ${JSON.stringify(report.samples)}`);
});
