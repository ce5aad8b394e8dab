// The front door wired into the daemon: http://<service>.localhost:<port>/ reaches the healthy instances, the index page
// lists routes, a scaled-down service drains, and a service with no passing instance answers 503 naming it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli, cleanupProject, waitFor, SERVER_JS } from '../support/cli.js';
import { freePort } from '../support/ports.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

function get(port: number, host: string, path = '/', accept = 'text/html'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, accept }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the daemon serves every service at <service>.localhost through its front door', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS,
    'machineroom.yml': `name: doortest\nservices:\n  web:\n    command: node server.js\n    replicas: 2\n    port: ${port}\n    health: { http: /health, interval: 500ms }\n    access_log: true\n    routes:\n      - hosts: [shop.localhost]\n        paths: [/api]\n        strip: true\n`,
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const httpPort = (JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { httpPort: number }).httpPort;
  assert.match(up.stdout, new RegExp(`http://web\\.localhost:${httpPort}/`), 'the summary prints the route');

  const seen = new Set<string>();
  await waitFor('both instances answer through the front door', async () => {
    const r = await get(httpPort, `web.localhost:${httpPort}`);
    if (r.status === 200) seen.add((JSON.parse(r.body) as { id: string }).id);
    return seen.size === 2;
  });
  for (const host of ['web.doortest.localhost', 'web.service.consul']) assert.equal((await get(httpPort, host)).status, 200, host);
  // A configured route: its host and path prefix reach web (the test backend answers any path).
  assert.equal((await get(httpPort, 'shop.localhost', '/api/items')).status, 200, 'routes: hosts + paths');
  assert.equal((await get(httpPort, 'shop.localhost', '/other')).status, 404, 'outside the configured path prefix');
  // The route index is on the front door's own name (machineroom.localhost is the dashboard's, dashboard-api.test.ts).
  const index = await get(httpPort, 'localhost');
  assert.equal(index.status, 200);
  assert.match(index.body, /web\.localhost/);
  assert.equal((await get(httpPort, 'nosuch.localhost')).status, 404);

  // The access log (on for web): service, instance, status and duration in the log stream.
  await waitFor('an access log line', async () => /frontdoor +\| GET web\.localhost:\d+\/ → web\.\d 200 [\d.]+ms/.test((await runCli(['logs', 'web'], { cwd: dir })).stdout));

  // Counters in the control API and Prometheus text on the API listener.
  const apiPort = (JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { apiPort: number }).apiPort;
  const traffic = (await (await fetch(`http://127.0.0.1:${apiPort}/v1/machineroom/traffic`)).json()) as { instances: { id: string; requests: number }[] };
  assert.ok(traffic.instances.filter((i) => i.id.startsWith('web.')).reduce((n, i) => n + i.requests, 0) >= 4, 'requests counted per instance');
  const metrics = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
  assert.match(metrics, /^machineroom_frontdoor_requests_total\{project="doortest",service="web",instance="web\.1"\} \d+$/m);
  assert.match(metrics, /^machineroom_instance_up\{project="doortest",service="web",instance="web\.2",state="running",health="passing"\} 1$/m);

  assert.equal((await runCli(['stop', 'web'], { cwd: dir })).code, 0);
  const gone = await waitFor('503 once web has no instance', async () => {
    const r = await get(httpPort, 'web.localhost', '/', 'application/json');
    return r.status === 503 ? r : undefined;
  });
  assert.match(gone.body, /web/);
});
