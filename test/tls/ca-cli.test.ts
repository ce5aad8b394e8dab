// `machineroom ca`: creates the CA on first use and prints its path (--path), its facts (--json) or how to trust it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli } from '../support/cli.js';

const dir = makeProject({ 'machineroom.yml': 'name: catest\nservices:\n  web:\n    command: node -e "setInterval(() => {}, 1000)"\n    port: 3000\n' }, 'mr-ca-cli-');
const file = join(dir, 'machineroom.yml');
after(() => rmSync(dir, { recursive: true, force: true }));

test('ca --path creates the CA and prints only its certificate path', async () => {
  const r = await runCli(['ca', '--path', '-f', file], { cwd: '/' });
  assert.equal(r.code, 0, r.stderr);
  const path = join(dir, '.machineroom', 'ca', 'ca.crt');
  assert.equal(r.stdout, `${path}\n`);
  assert.equal(new X509Certificate(readFileSync(path)).ca, true);
  assert.equal(statSync(join(dir, '.machineroom', 'ca', 'ca.key')).mode & 0o777, 0o600);
  assert.match(readFileSync(join(dir, '.machineroom', '.gitignore'), 'utf8'), /^\*$/m, 'the state dir (and the key) stay out of git');
});

test('ca --json prints path, keyPath, subject, fingerprint256 and notAfter of the same CA', async () => {
  const r = await runCli(['ca', '--json', '-f', file], { cwd: '/' });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { path: string; keyPath: string; subject: string; fingerprint256: string; notAfter: string };
  assert.deepEqual(Object.keys(out).sort(), ['fingerprint256', 'keyPath', 'notAfter', 'path', 'subject']);
  assert.equal(out.path, join(dir, '.machineroom', 'ca', 'ca.crt'));
  assert.equal(out.keyPath, join(dir, '.machineroom', 'ca', 'ca.key'));
  assert.match(out.subject, /^CN=machineroom local CA \(catest\) [0-9a-f]{8}, O=machineroom$/);
  const x = new X509Certificate(readFileSync(out.path));
  assert.equal(out.fingerprint256, x.fingerprint256);
  assert.equal(new Date(out.notAfter).getTime(), new Date(x.validTo).getTime());
});

test('ca (from the project directory) shows the facts and how to trust the CA', async () => {
  const r = await runCli(['ca'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const path = join(dir, '.machineroom', 'ca', 'ca.crt');
  const fp = new X509Certificate(readFileSync(path)).fingerprint256;
  for (const want of [
    path,
    fp,
    `sudo cp ${path} /usr/local/share/ca-certificates/machineroom-catest.crt && sudo update-ca-certificates`,
    `sudo trust anchor --store ${path}`,
    `sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${path}`,
    `certutil -addstore -f ROOT ${path}`,
    `certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n "machineroom local CA (catest)" -i ${path}`,
    `NODE_EXTRA_CA_CERTS=${path}`,
    `--cacert ${path}`,
    'https://<service>.localhost:',
  ]) {
    assert.ok(r.stdout.includes(want), `prints ${want}:\n${r.stdout}`);
  }
  assert.doesNotMatch(r.stdout, /created now/, 'the CA made by the earlier test is reused');
});
