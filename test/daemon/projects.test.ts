// Acceptance: two projects with the same service names and ports run at once; a port held by a non-machineroom process is named.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { makeProject, runCli, cliJson, cleanupProject, testEnv, SERVER_JS } from '../support/cli.js';
import { freePort, httpGet } from '../support/ports.js';
import type { RoomStatus } from '../../src/client/index.js';

const dirs: string[] = [];
const servers: Server[] = [];
after(async () => {
  for (const s of servers) s.close();
  for (const d of dirs) await cleanupProject(d);
});

test('two projects with the same service names and ports run at once, each on its own addresses and API port', async () => {
  const port = await freePort();
  const apiPort = await freePort();
  const yml = `services:\n  web:\n    command: node server.js\n    replicas: 2\n    port: ${port}\n    health: { http: /health, interval: 1s }\n`;
  const a = makeProject({ 'server.js': SERVER_JS, 'machineroom.yml': 'name: twin-a\n' + yml });
  const b = makeProject({ 'server.js': SERVER_JS, 'machineroom.yml': 'name: twin-b\n' + yml });
  dirs.push(a, b);
  // Both ask for the same API port: the second moves to the next free one.
  const env = testEnv({ MACHINEROOM_API_PORT: String(apiPort) });
  const upA = await runCli(['up', '-d', '--wait'], { cwd: a, env });
  assert.equal(upA.code, 0, upA.stderr);
  const upB = await runCli(['up', '-d', '--wait'], { cwd: b, env });
  assert.equal(upB.code, 0, upB.stderr);
  const sa = await cliJson<RoomStatus>(['ps', '--json'], a);
  const sb = await cliJson<RoomStatus>(['ps', '--json'], b);
  assert.equal(sa.info.apiUrl, `http://127.0.0.1:${apiPort}`);
  assert.notEqual(sb.info.apiUrl, sa.info.apiUrl, 'the second project moved to another API port');
  assert.match(upB.stdout, new RegExp(sb.info.apiUrl.replace(/[.:/]/g, '\\$&')), 'the moved port is printed');
  const addrA = sa.instances.map((i) => i.address);
  const addrB = sb.instances.map((i) => i.address);
  assert.equal(new Set([...addrA, ...addrB]).size, 4, 'no two instances share an address');
  for (const [status, name] of [[sa, 'twin-a'], [sb, 'twin-b']] as const) {
    for (const i of status.instances) {
      const res = await httpGet(`http://${i.address}:${port}/`);
      assert.ok(res, `${name} ${i.name} answers`);
      assert.equal(JSON.parse(res.body).id, i.instanceId);
    }
  }
});

test('an API port held by another program is an error naming the port and the process holding it', async () => {
  const port = await freePort();
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(port, '127.0.0.1', () => r()));
  servers.push(holder);
  const dir = makeProject({ 'machineroom.yml': `services:\n  idle:\n    command: sleep 60\n` });
  dirs.push(dir);
  const up = await runCli(['up', '-d'], { cwd: dir, env: testEnv({ MACHINEROOM_API_PORT: String(port) }) });
  assert.equal(up.code, 1, up.stdout + up.stderr);
  assert.match(up.stderr, new RegExp(`port ${port} is in use by pid ${process.pid} \\(`));
  assert.match(up.stderr, /MACHINEROOM_API_PORT/);
});
