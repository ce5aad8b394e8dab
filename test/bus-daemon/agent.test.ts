// `machineroom agent`: the bus alone, with its HTTP API and DNS on the addresses asked for; data kept with --data-dir.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, waitFor, testEnv } from '../support/cli.js';
import type { ChildProcess } from 'node:child_process';

const children: ChildProcess[] = [];
const dirs: string[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startAgent(dataDir: string): Promise<{ child: ChildProcess; http: string; dnsPort: number }> {
  const agent = startCli(['agent', '--http', '127.0.0.1:0', '--dns', '127.0.0.1:0', '--node', 'dev-node', '--datacenter', 'lab', '--data-dir', dataDir], { cwd: dataDir, env: testEnv() });
  children.push(agent.child);
  const out = await waitFor('the agent to print its addresses', () => /HTTP +http:\/\/127\.0\.0\.1:(\d+)[\s\S]*DNS +127\.0\.0\.1:(\d+)/.exec(agent.output()), 30_000);
  return { child: agent.child, http: `http://127.0.0.1:${out[1]}`, dnsPort: Number(out[2]) };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  return exited;
}

test('the agent serves the Consul API and DNS alone, and keeps KV across restarts with --data-dir', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mr-agent-'));
  dirs.push(dataDir);
  const a = await startAgent(dataDir);
  assert.equal(await (await fetch(`${a.http}/v1/status/leader`)).json(), '127.0.0.1:8300');
  const self = (await (await fetch(`${a.http}/v1/agent/self`)).json()) as { Config: { NodeName: string; Datacenter: string } };
  assert.equal(self.Config.NodeName, 'dev-node');
  assert.equal(self.Config.Datacenter, 'lab');
  assert.equal(await (await fetch(`${a.http}/v1/kv/greeting`, { method: 'PUT', body: 'hello' })).json(), true);
  const reg = await fetch(`${a.http}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ Name: 'web', ID: 'web-1', Address: '127.0.0.9', Port: 8080 }) });
  assert.equal(reg.status, 200);
  const dig = execFileSync('dig', ['@127.0.0.1', '-p', String(a.dnsPort), 'web.service.lab.consul', 'A', '+short', '+tries=1', '+time=2'], { encoding: 'utf8' }).trim();
  assert.equal(dig, '127.0.0.9');
  assert.equal(await stop(a.child), 0);

  const b = await startAgent(dataDir);
  const kv = (await (await fetch(`${b.http}/v1/kv/greeting`)).json()) as { Value: string }[];
  assert.equal(Buffer.from(kv[0]!.Value, 'base64').toString(), 'hello', 'KV survives a restart');
  const services = (await (await fetch(`${b.http}/v1/agent/services`)).json()) as Record<string, unknown>;
  assert.ok(services['web-1'], 'an API registration survives a restart');
  assert.equal(await stop(b.child), 0);
});

test('the agent refuses a non-loopback address', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mr-agent-'));
  dirs.push(dir);
  const r = startCli(['agent', '--http', '0.0.0.0:8500'], { cwd: dir, env: testEnv() });
  children.push(r.child);
  const code = await new Promise<number | null>((res) => r.child.once('exit', (c) => res(c)));
  assert.equal(code, 2);
  assert.match(r.output(), /not a loopback address/);
});

test('Ctrl-C ends the agent even while a blocking query waits (it does not wait the query out)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mr-agent-'));
  dirs.push(dataDir);
  const a = await startAgent(dataDir);
  await fetch(`${a.http}/v1/kv/watched`, { method: 'PUT', body: 'x' });
  const index = (await fetch(`${a.http}/v1/kv/watched`)).headers.get('x-consul-index');
  // A five-minute blocking query, on the wire before the signal.
  const blocked = fetch(`${a.http}/v1/kv/watched?index=${index}&wait=5m`).then(
    (r) => `answered ${r.status}`,
    (err: Error) => `ended: ${err.message}`,
  );
  await waitFor('the blocking query to be parked', async () => (await fetch(`${a.http}/v1/agent/self`)).ok, 5_000);
  const exited = new Promise<number | null>((r) => a.child.once('exit', (code) => r(code)));
  a.child.kill('SIGINT');
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running after 30 s'), 30_000).unref())]);
  assert.equal(code, 0);
  assert.match(await blocked, /ended|answered/);
});
