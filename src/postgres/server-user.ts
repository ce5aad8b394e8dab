// The dedicated account the server runs as when machineroom runs as root: postgres refuses to run as root.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { MachineroomError } from '../errors/index.js';
import type { PgUser } from './types.js';
import { runBinary } from './run-binary.js';
import type { BinaryResult } from './run-binary.js';

/** The account's name: one per machine, shared by every project's servers (each data dir is still 0700). */
export const SERVER_USER_NAME = 'machineroom-pg';

let cached: Promise<PgUser | undefined> | undefined;

/** When running as root: `machineroom-pg` (created if missing, safe against a concurrent creator); otherwise undefined. */
export function serverUser(): Promise<PgUser | undefined> {
  if (process.getuid?.() !== 0) return Promise.resolve(undefined);
  cached ??= ensureUser(SERVER_USER_NAME).catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

/** Runs a system tool (getent, useradd); rejects only when it cannot be started. */
function exec(file: string, args: string[]): Promise<BinaryResult> {
  return runBinary(file, args, { timeoutMs: 30_000 });
}

async function lookupUser(name: string): Promise<PgUser | undefined> {
  // /etc/passwd first (useradd --system writes there; no process to spawn), then NSS through getent.
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] !== name) continue;
      const uid = Number(f[2]);
      const gid = Number(f[3]);
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { name, uid, gid };
    }
  } catch {
    /* no /etc/passwd: ask getent */
  }
  const r = await exec('getent', ['passwd', name]);
  if (r.code !== 0) return undefined;
  const fields = r.stdout.trim().split(':');
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  return Number.isInteger(uid) && Number.isInteger(gid) ? { name, uid, gid } : undefined;
}

async function groupExists(name: string): Promise<boolean> {
  return (await exec('getent', ['group', name])).code === 0;
}

async function ensureUser(name: string): Promise<PgUser> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await lookupUser(name);
    if (found) return found;
    // A group left by a removed user makes --user-group fail: join it instead.
    const group = (await groupExists(name)) ? ['-g', name] : ['--user-group'];
    let r: BinaryResult;
    try {
      r = await exec('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', ...group, name]);
    } catch (err) {
      throw new MachineroomError(
        'ERR_INTERNAL',
        `cannot create the user ${name} that PostgreSQL runs as (postgres refuses to run as root): useradd is not available (${(err as Error).message}); create it yourself (a system user with its own group) or run machineroom as an ordinary user`,
        { cause: err },
      );
    }
    if (r.code === 0) continue;
    // Another process created it meanwhile (exit 9), or holds the passwd lock: look again.
    if (Date.now() < deadline && (r.code === 9 || /lock|try again/i.test(r.stderr))) {
      await sleep(50);
      continue;
    }
    const again = await lookupUser(name);
    if (again) return again;
    throw new MachineroomError(
      'ERR_INTERNAL',
      `cannot create the user ${name} that PostgreSQL runs as (postgres refuses to run as root): useradd exited ${r.code}: ${r.stderr.trim()}; create it yourself with: useradd --system --no-create-home --shell /usr/sbin/nologin --user-group ${name}`,
    );
  }
}
