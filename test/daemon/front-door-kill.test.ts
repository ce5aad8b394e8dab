// Issue 4 acceptance 4 (in a test): an instance SIGKILLed under load costs at most the requests in flight on it; the
// rest (and any not yet sent to it) are answered by the others.
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

const CONCURRENCY = 16;

test('an instance SIGKILLed under load loses at most its in-flight requests', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `name: killtest\nservices:\n  web:\n    command: node server.js\n    replicas: 4\n    port: ${port}\n    health: { http: /health, interval: 200ms }\n`,
  });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  const { httpPort, apiPort } = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { httpPort: number; apiPort: number };
  const load = spawn(process.execPath, [join(ROOT, 'test/fixtures/load/load.mjs'), String(httpPort), 'web.localhost', String(CONCURRENCY)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(load);
  let out = '';
  load.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor('the load generator to start', () => out.includes('ready'));

  const before = await cliJson<RoomStatus>(['ps', '--json'], dir);
  const victim = before.instances[1]!;
  // Kill only once the load reaches every instance, so the victim has requests in flight.
  await waitFor('traffic on every instance', async () => {
    const t = (await (await fetch(`http://127.0.0.1:${apiPort}/v1/machineroom/traffic`)).json()) as { instances: { id: string; requests: number }[] };
    return before.instances.every((i) => (t.instances.find((x) => x.id === i.name)?.requests ?? 0) > 0);
  });
  process.kill(victim.pid!, 'SIGKILL');
  await waitFor('web.2 restarted and healthy again', async () => {
    const s = await cliJson<RoomStatus>(['ps', '--json'], dir);
    const i = s.instances.find((x) => x.name === victim.name);
    return i && i.pid !== victim.pid && i.health === 'passing';
  }, 60_000);
  const done = new Promise<void>((r) => load.once('exit', () => r()));
  load.kill('SIGTERM');
  await done;
  const report = JSON.parse(out.split('\n').filter(Boolean).pop()!) as { ok: number; bad: number; errors: number; samples: unknown[] };
  process.stdout.write(`# kill load: ${JSON.stringify(report)}\n`);
  assert.ok(report.ok > 500, `traffic went through: ${report.ok}`);
  assert.ok(report.bad + report.errors <= CONCURRENCY, `at most the ${CONCURRENCY} requests in flight fail; got ${report.bad} non-2xx and ${report.errors} errors ${JSON.stringify(report.samples)}`);
});
