// Credentials kept beside the data: the superuser's password and generated role passwords, made once and then stable
// (a regenerated superuser password would lock machineroom out of its own cluster). Configured passwords are not stored.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MachineroomError } from '../errors/index.js';
import { withFileLock, writeFileAtomic } from '../state/index.js';
import { makeParents } from './data-dir.js';

interface CredentialsFile {
  superPassword: string;
  passwords: Record<string, string>;
}

/** A fresh url-safe random password (24 characters, 144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

function readCredentials(file: string): CredentialsFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MachineroomError('ERR_INTERNAL', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const data = JSON.parse(text) as Partial<CredentialsFile>;
    if (typeof data.superPassword !== 'string' || !data.superPassword) throw new Error('no superPassword');
    return { superPassword: data.superPassword, passwords: typeof data.passwords === 'object' && data.passwords ? data.passwords : {} };
  } catch (err) {
    throw new MachineroomError(
      'ERR_INTERNAL',
      `${file} is damaged (${(err as Error).message}); it holds the database superuser's password, so machineroom will not replace it: repair it, or discard the database with \`machineroom db reset NAME\``,
      { cause: err },
    );
  }
}

/** `<dir>/credentials.json` (0600): the superuser password and a password for each of `roles`, generated when missing. */
export async function loadCredentials(dir: string, roles: string[]): Promise<{ superPassword: string; passwords: Record<string, string> }> {
  // 0755 like the data dir's other parents (the server's user must pass through); the file itself is 0600.
  makeParents(dir);
  const file = join(dir, 'credentials.json');
  return withFileLock(join(dir, 'credentials.lock'), () => {
    const existing = readCredentials(file);
    const data: CredentialsFile = existing ?? { superPassword: generatePassword(), passwords: {} };
    let changed = existing === undefined;
    for (const role of roles) {
      if (typeof data.passwords[role] !== 'string') {
        data.passwords[role] = generatePassword();
        changed = true;
      }
    }
    if (changed) writeFileAtomic(file, JSON.stringify(data, null, 2) + '\n', 0o600);
    return { superPassword: data.superPassword, passwords: Object.fromEntries(roles.map((r) => [r, data.passwords[r]!])) };
  });
}
