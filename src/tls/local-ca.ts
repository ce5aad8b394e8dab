// The project's local CA in `<stateDir>/ca/`: read and checked, or created once (atomically, even with racing processes).
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MachineroomError } from '../errors/index.js';
import { generateCa } from './create-ca.js';

/** The project's CA as the front door and `machineroom ca` use it. */
export interface LocalCa {
  certPem: string;
  keyPem: string;
  certPath: string;
  keyPath: string;
  /** SHA-256 of the certificate, colon hex, as openssl and Node print it. */
  fingerprint256: string;
  notAfter: Date;
  /** e.g. `CN=machineroom local CA (shop) 3f9a1c2e, O=machineroom` */
  subject: string;
}

/** Where a project's CA lives inside its state directory. */
export function caPaths(stateDir: string): { dir: string; cert: string; key: string } {
  const dir = join(stateDir, 'ca');
  return { dir, cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
}

/** A CA file that cannot be used: says which file, what is wrong, and to delete the directory (never replaced silently). */
function unusableCa(path: string, problem: string, caDir: string, cause?: unknown): MachineroomError {
  return new MachineroomError(
    'ERR_INTERNAL',
    `local CA ${path}: ${problem}. machineroom never replaces a CA you may have trusted: delete the directory ${caDir} ` +
      'and run `machineroom ca` to create a new one (then trust the new certificate, and remove the old one from your trust stores)',
    { ...(cause === undefined ? {} : { cause }), details: { path } },
  );
}

function readIfPresent(path: string, caDir: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unusableCa(path, `cannot be read (${(err as Error).message})`, caDir, err);
  }
}

/**
 * Reads and checks the project's CA (undefined when it has not been created yet). A CA that is damaged, half there,
 * not a CA, not matching its key or expired is an error naming the file and saying to delete the ca directory.
 */
export function readLocalCa(stateDir: string, now = new Date()): LocalCa | undefined {
  const p = caPaths(stateDir);
  try {
    readdirSync(p.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unusableCa(p.dir, `is not a readable directory (${(err as Error).message})`, p.dir, err);
  }
  const certPem = readIfPresent(p.cert, p.dir);
  const keyPem = readIfPresent(p.key, p.dir);
  if (certPem === undefined && keyPem === undefined) return undefined;
  if (certPem === undefined) throw unusableCa(p.cert, 'is missing (its key is there)', p.dir);
  if (keyPem === undefined) throw unusableCa(p.key, 'is missing (its certificate is there)', p.dir);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw unusableCa(p.cert, `is not a PEM certificate (${(err as Error).message})`, p.dir, err);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw unusableCa(p.key, `is not a PEM private key (${(err as Error).message})`, p.dir, err);
  }
  if (!cert.ca) throw unusableCa(p.cert, 'is not a CA certificate (basicConstraints CA:true is missing)', p.dir);
  if (!cert.checkPrivateKey(key)) throw unusableCa(p.key, `does not belong to the certificate ${p.cert}`, p.dir);
  const notAfter = new Date(cert.validTo);
  if (Number.isNaN(notAfter.getTime())) throw unusableCa(p.cert, `has an unreadable expiry date "${cert.validTo}"`, p.dir);
  if (notAfter.getTime() <= now.getTime()) throw unusableCa(p.cert, `expired on ${notAfter.toISOString()}`, p.dir);
  return { certPem, keyPem, certPath: p.cert, keyPath: p.key, fingerprint256: cert.fingerprint256, notAfter, subject: cert.subject.split('\n').join(', ') };
}

function writeNewFile(path: string, text: string, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, mode); // the umask may have taken bits away from the cert's 0644
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported here (Windows): the rename is still atomic */
  }
}

const TEMP_DIR = /^\.ca-\d+-[0-9a-f]+\.tmp$/;

/** Removes temporary CA directories a process that crashed mid-creation left behind (older than ten minutes). */
function sweepStaleTempDirs(stateDir: string): void {
  for (const name of readdirSync(stateDir)) {
    if (!TEMP_DIR.test(name)) continue;
    const path = join(stateDir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > 600_000) rmSync(path, { recursive: true, force: true });
    } catch {
      /* another process swept it */
    }
  }
}

/**
 * Loads the project's CA from `<stateDir>/ca/`, or creates it on first use: key mode 0600 in a 0700 directory,
 * certificate 0644. The files are written complete into a temporary directory that is then renamed to `ca/`, so
 * racing processes end with exactly one CA (the losers drop theirs and read the winner's) and no reader ever sees
 * half a key. An existing CA is reused; an unusable one is an error, never silently replaced.
 */
export async function ensureLocalCa(stateDir: string, opts: { projectName?: string } = {}): Promise<LocalCa> {
  const existing = readLocalCa(stateDir);
  if (existing) return existing;
  mkdirSync(stateDir, { recursive: true });
  sweepStaleTempDirs(stateDir);
  const p = caPaths(stateDir);
  const pems = await generateCa(opts.projectName ?? basename(dirname(resolve(stateDir))));
  const tmp = join(stateDir, `.ca-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  mkdirSync(tmp, { mode: 0o700 });
  let renameError: unknown;
  try {
    chmodSync(tmp, 0o700);
    writeNewFile(join(tmp, 'ca.key'), pems.keyPem, 0o600);
    writeNewFile(join(tmp, 'ca.crt'), pems.certPem, 0o644);
    fsyncDir(tmp);
    try {
      renameSync(tmp, p.dir);
      fsyncDir(stateDir);
    } catch (err) {
      renameError = err; // ENOTEMPTY / EEXIST (EPERM on Windows): another process created the CA first
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const ca = readLocalCa(stateDir);
  if (!ca) {
    const why = renameError instanceof Error ? renameError.message : 'it vanished right after creation';
    throw new MachineroomError('ERR_INTERNAL', `local CA: cannot create ${p.dir}: ${why}; check that ${stateDir} is writable`, { cause: renameError, details: { path: p.dir } });
  }
  return ca;
}
