// Issue 3 acceptance (durability), end to end: two concurrent writers put 5,000 keys through the daemon's HTTP API;
// the daemon is SIGKILLed midway; after `up` again, every key acknowledged before the kill reads back byte-identical.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, Agent } from 'node:http';
import { randomBytes } from 'node:crypto';
import { makeProject, runCli, cleanupProject, waitFor } from '../support/cli.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

function put(agent: Agent, port: number, key: string, value: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `/v1/kv/${key}`, agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'true'));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.end(value);
  });
}

test('no acknowledged KV write is lost when the daemon is SIGKILLed mid-stream', async () => {
  const dir = makeProject({ 'machineroom.yml': 'services:\n  idle:\n    command: sleep 600\n' });
  dirs.push(dir);
  assert.equal((await runCli(['up', '-d', '--wait'], { cwd: dir })).code, 0);
  const rec = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { pid: number; apiPort: number };
  const acked = new Map<string, Buffer>();
  let killed = false;
  const writer = async (w: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 2500 && !killed; i++) {
      const key = `dur/w${w}/${i}`;
      const value = randomBytes(1 + (i % 200)); // binary values, not just text
      if (await put(agent, rec.apiPort, key, value)) acked.set(key, value);
      if (acked.size >= 1500 && !killed) {
        killed = true;
        process.kill(rec.pid, 'SIGKILL');
      }
    }
    agent.destroy();
  };
  await Promise.all([writer(1), writer(2)]);
  assert.ok(killed, 'the daemon was killed midway');
  assert.ok(acked.size >= 1500, `${acked.size} writes acknowledged before the kill`);

  await waitFor('the old daemon gone', () => {
    try {
      process.kill(rec.pid, 0);
      const stat = readFileSync(`/proc/${rec.pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return true;
    }
  });
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const port = (JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { apiPort: number }).apiPort;
  const res = await fetch(`http://127.0.0.1:${port}/v1/kv/dur/?recurse`);
  assert.equal(res.status, 200);
  const entries = (await res.json()) as { Key: string; Value: string | null }[];
  const stored = new Map(entries.map((e) => [e.Key, Buffer.from(e.Value ?? '', 'base64')]));
  let lost = 0;
  for (const [key, value] of acked) if (!stored.get(key)?.equals(value)) lost += 1;
  assert.equal(lost, 0, `${lost} of ${acked.size} acknowledged writes lost or changed`);
});
