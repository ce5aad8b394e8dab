// Issue 4, acceptance 5: the front door serves HTTPS with a certificate from the project's own CA. A Node client that
// trusts only that CA gets the same answer from https://alpha.localhost:<https port>/ as over HTTP; a client with the
// default trust store fails verification; `machineroom ca --path` names the CA it trusted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli, cleanupProject, waitFor, SERVER_JS } from '../support/cli.js';
import { freePort } from '../support/ports.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

interface Answer {
  status: number;
  body: string;
}

function fetchText(secure: boolean, opts: RequestOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)({ host: '127.0.0.1', agent: false, ...opts }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('HTTPS at alpha.localhost with the project CA: trusted with only the CA, refused without it', async () => {
  const port = await freePort();
  const dir = makeProject({
    'server.js': SERVER_JS.replace('host: process.env.HOST,', 'host: process.env.HOST, proto: req.headers["x-forwarded-proto"],'),
    'machineroom.yml': `name: tlstest\nservices:\n  alpha:\n    command: node server.js\n    port: ${port}\n    health: { http: /health, interval: 500ms }\n`,
  });
  dirs.push(dir);
  const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const record = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { httpPort: number; httpsPort?: number };
  assert.ok(record.httpsPort, `the daemon records an HTTPS port: ${JSON.stringify(record)}`);
  const httpsPort = record.httpsPort;

  const caPath = (await runCli(['ca', '--path'], { cwd: dir })).stdout.trim();
  assert.equal(caPath, join(dir, '.machineroom', 'ca', 'ca.crt'));
  const ca = readFileSync(caPath, 'utf8');
  const keyMode = statSync(join(dir, '.machineroom', 'ca', 'ca.key')).mode & 0o777;
  assert.equal(keyMode, 0o600, 'the CA key is readable by its owner only');

  const plain = await waitFor('alpha over HTTP', async () => {
    const r = await fetchText(false, { port: record.httpPort, path: '/', headers: { host: 'alpha.localhost' } });
    return r.status === 200 ? r : undefined;
  });
  // Trusting only the CA: the leaf for alpha.localhost verifies (servername = SNI and the name checked).
  const secure = await fetchText(true, { port: httpsPort, path: '/', servername: 'alpha.localhost', headers: { host: `alpha.localhost:${httpsPort}` }, ca: [ca] });
  assert.equal(secure.status, 200);
  const id = (b: string) => (JSON.parse(b) as { id: string }).id;
  assert.equal(id(secure.body), id(plain.body), 'the same instance answers over HTTPS');
  // Forwarding headers say the client came over https.
  assert.equal((JSON.parse(secure.body) as { proto?: string }).proto, 'https');
  assert.equal((JSON.parse(plain.body) as { proto?: string }).proto, 'http');

  // The default trust store does not know the CA.
  await assert.rejects(
    fetchText(true, { port: httpsPort, path: '/', servername: 'alpha.localhost', headers: { host: 'alpha.localhost' } }),
    (err: NodeJS.ErrnoException) => /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT/.test(String(err.code)),
  );
  // Another project's CA (made fresh here) does not vouch for this one.
  const other = makeProject({ 'machineroom.yml': 'name: otherca\nservices: {}\n' });
  dirs.push(other);
  const otherCa = readFileSync((await runCli(['ca', '--path'], { cwd: other })).stdout.trim(), 'utf8');
  await assert.rejects(fetchText(true, { port: httpsPort, path: '/', servername: 'alpha.localhost', headers: { host: 'alpha.localhost' }, ca: [otherCa] }));
  // A client sending no server name (an IP literal) gets a certificate valid for 127.0.0.1, once every front-door
  // process has its default certificate (the CA is set up beside start-up, not before it).
  const byIp = await waitFor('an IP-literal HTTPS client verified', async () => {
    const r = await fetchText(true, { port: httpsPort, path: '/', headers: { host: 'alpha.localhost' }, ca: [ca], servername: '' }).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  assert.equal(byIp.status, 200);
});
