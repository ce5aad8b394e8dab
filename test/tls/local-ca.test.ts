// The project's local CA on disk: created once with private modes, reused, shared by racing processes, never silently replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLocalCa, readLocalCa, caPaths } from '../../src/tls/index.js';
import { generateCa } from '../../src/tls/create-ca.js';
import { MachineroomError } from '../../src/errors/index.js';

const TLS_INDEX = fileURLToPath(new URL('../../src/tls/index.js', import.meta.url));

function tempStateDir(t: { after(fn: () => void): void }): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'mr-ca-')));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return join(root, '.machineroom');
}

test('creates a P-256 CA with private file modes, then reuses it', async (t) => {
  const stateDir = tempStateDir(t);
  assert.equal(readLocalCa(stateDir), undefined);
  const ca = await ensureLocalCa(stateDir, { projectName: 'shop' });
  assert.equal(ca.certPath, caPaths(stateDir).cert);
  assert.equal(statSync(ca.keyPath).mode & 0o777, 0o600);
  assert.equal(statSync(caPaths(stateDir).dir).mode & 0o777, 0o700);
  assert.equal(statSync(ca.certPath).mode & 0o777, 0o644);
  assert.match(ca.subject, /^CN=machineroom local CA \(shop\) [0-9a-f]{8}, O=machineroom$/);
  assert.match(ca.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const x = new X509Certificate(ca.certPem);
  assert.equal(x.ca, true);
  assert.equal(x.fingerprint256, ca.fingerprint256);
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(x.verify(x.publicKey), 'self-signed');
  const years = (ca.notAfter.getTime() - Date.now()) / (365.25 * 864e5);
  assert.ok(years > 9.9 && years < 10.1, `valid for 10 years, got ${years}`);
  const again = await ensureLocalCa(stateDir, { projectName: 'other' });
  assert.equal(again.fingerprint256, ca.fingerprint256);
  assert.equal(readLocalCa(stateDir)?.fingerprint256, ca.fingerprint256);
  assert.deepEqual(readdirSync(stateDir), ['ca'], 'no temporary directories left behind');
  assert.deepEqual(readdirSync(caPaths(stateDir).dir).sort(), ['ca.crt', 'ca.key']);
});

test('4 processes creating the CA at once end with exactly one, which all of them report', async (t) => {
  const stateDir = tempStateDir(t);
  const script = `import(${JSON.stringify(TLS_INDEX)}).then(async (m) => { const ca = await m.ensureLocalCa(${JSON.stringify(stateDir)}, { projectName: 'race' }); process.stdout.write(ca.fingerprint256); })`;
  const run = () =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('close', (code) => resolve({ code, out, err }));
    });
  const results = await Promise.all([run(), run(), run(), run()]);
  for (const r of results) assert.equal(r.code, 0, r.err);
  const fingerprints = new Set(results.map((r) => r.out));
  assert.equal(fingerprints.size, 1, `one CA, got ${[...fingerprints].join(' / ')}`);
  assert.equal(readLocalCa(stateDir)?.fingerprint256, [...fingerprints][0]);
  assert.deepEqual(readdirSync(stateDir), ['ca'], 'the losers removed their temporary directories');
  assert.deepEqual(readdirSync(caPaths(stateDir).dir).sort(), ['ca.crt', 'ca.key']);
});

function assertUnusable(fn: () => unknown, file: string, problem: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MachineroomError, String(err));
    assert.ok(err.message.includes(file), `names ${file}: ${err.message}`);
    assert.match(err.message, problem);
    assert.match(err.message, /delete the directory .*\/ca /);
    return true;
  });
}

test('a damaged, half-there, mismatched or expired CA is an error naming the file, never replaced', async (t) => {
  const stateDir = tempStateDir(t);
  const ca = await ensureLocalCa(stateDir);
  const p = caPaths(stateDir);

  writeFileSync(p.cert, 'not a certificate\n');
  assertUnusable(() => readLocalCa(stateDir), p.cert, /is not a PEM certificate/);
  await assert.rejects(ensureLocalCa(stateDir), (err: unknown) => err instanceof MachineroomError && err.message.includes(p.cert));
  assert.equal(statSync(p.cert).size, 'not a certificate\n'.length, 'left as it was');

  writeFileSync(p.cert, ca.certPem);
  writeFileSync(p.key, 'garbage');
  assertUnusable(() => readLocalCa(stateDir), p.key, /is not a PEM private key/);

  const other = await generateCa('other');
  writeFileSync(p.key, other.keyPem);
  assertUnusable(() => readLocalCa(stateDir), p.key, /does not belong to the certificate/);

  rmSync(p.key);
  assertUnusable(() => readLocalCa(stateDir), p.key, /is missing/);

  const old = await generateCa('old', new Date(Date.now() - 11 * 365.25 * 864e5));
  writeFileSync(p.cert, old.certPem);
  writeFileSync(p.key, old.keyPem);
  assertUnusable(() => readLocalCa(stateDir), p.cert, /expired on \d{4}-/);
  await assert.rejects(ensureLocalCa(stateDir), /expired/);
});

test('an empty ca directory counts as not created yet', async (t) => {
  const stateDir = tempStateDir(t);
  mkdirSync(caPaths(stateDir).dir, { recursive: true });
  assert.equal(readLocalCa(stateDir), undefined);
  const ca = await ensureLocalCa(stateDir);
  assert.equal(readLocalCa(stateDir)?.fingerprint256, ca.fingerprint256);
});
