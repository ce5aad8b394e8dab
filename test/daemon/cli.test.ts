// The CLI: --help on every verb, usage errors exit 2, two `up`s never make two daemons, Ctrl-C in `logs -f` leaves the
// daemon running, and the CLI refuses a daemon of another version.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli, cliJson, cleanupProject, startCli, waitFor, scanInstances } from '../support/cli.js';
import type { RoomStatus } from '../../src/client/index.js';
import { processStartTime } from '../../src/proc/index.js';

const dirs: string[] = [];
const servers: Server[] = [];
after(async () => {
  for (const s of servers) s.close();
  for (const d of dirs) await cleanupProject(d);
});

const VERBS = ['up', 'down', 'ps', 'logs', 'events', 'dashboard', 'scale', 'restart', 'stop', 'start', 'exec', 'run', 'config'];

test('every verb has --help, and usage mistakes exit 2', async () => {
  const dir = makeProject({});
  dirs.push(dir);
  for (const verb of VERBS) {
    const r = await runCli([verb, '--help'], { cwd: dir });
    assert.equal(r.code, 0, `${verb} --help`);
    assert.match(r.stdout, new RegExp(`^Usage: machineroom ${verb}`), `${verb} --help shows its usage`);
    assert.match(r.stdout, /Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config/);
  }
  const main = await runCli(['--help'], { cwd: dir });
  for (const verb of VERBS) assert.match(main.stdout, new RegExp(`\\n  ${verb} `));
  assert.equal((await runCli(['frobnicate'], { cwd: dir })).code, 2);
  assert.equal((await runCli(['ps', '--bogus'], { cwd: dir })).code, 2);
  assert.equal((await runCli(['scale', 'web'], { cwd: dir })).code, 2);
  const noConfig = await runCli(['up', '-d'], { cwd: dir });
  assert.equal(noConfig.code, 2);
  assert.match(noConfig.stderr, /machineroom\.yml/);
});

test('two concurrent `up -d` in one project start one daemon; Ctrl-C in `logs -f` leaves it running', async () => {
  const dir = makeProject({ 'machineroom.yml': `services:\n  ticker:\n    command: "while true; do echo tick; sleep 0.2; done"\n` });
  dirs.push(dir);
  const [a, b] = await Promise.all([runCli(['up', '-d', '--wait'], { cwd: dir }), runCli(['up', '-d', '--wait'], { cwd: dir })]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const s = await cliJson<RoomStatus>(['ps', '--json'], dir);
  assert.equal(s.instances.length, 1, 'one daemon, one instance');
  assert.equal(new Set(scanInstances(dir).values()).size, 1, 'one instance id among the processes');

  const follow = startCli(['logs', '-f', 'ticker'], { cwd: dir });
  await waitFor('a followed line', () => /ticker\.1 +\| tick/.test(follow.output()));
  const exited = new Promise<number | null>((r) => follow.child.once('exit', (c) => r(c)));
  follow.child.kill('SIGINT');
  assert.equal(await exited, 0);
  const after2 = await cliJson<RoomStatus>(['ps', '--json'], dir);
  assert.equal(after2.info.pid, s.info.pid, 'the daemon keeps running');
  assert.equal(after2.instances[0]?.pid, s.instances[0]?.pid);
});

test('the CLI refuses to drive a daemon of another machineroom version', async () => {
  const dir = makeProject({ 'machineroom.yml': `services:\n  idle:\n    command: sleep 60\n` });
  dirs.push(dir);
  // A stand-in daemon of an older version: a real HTTP server recorded as this project's live daemon.
  const old = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-machineroom-version': '0.0.1' });
    res.end('{}');
  });
  servers.push(old);
  await new Promise<void>((r) => old.listen(0, '127.0.0.1', () => r()));
  const port = (old.address() as { port: number }).port;
  await runCli(['config'], { cwd: dir });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, '.machineroom'), { recursive: true });
  writeFileSync(
    join(dir, '.machineroom', 'daemon.json'),
    JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid), version: '0.0.1', project: 'x', projectId: 'x-000000', projectDir: dir, apiHost: '127.0.0.1', apiPort: port, startedAt: '', attached: false }),
  );
  for (const args of [['ps'], ['scale', 'idle=2'], ['up', '-d']]) {
    const r = await runCli(args, { cwd: dir });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /runs machineroom 0\.0\.1, but this CLI is \d+\.\d+\.\d+/);
    assert.match(r.stderr, /--any-version/);
  }
  void readFileSync;
});
