// SCRAM-SHA-256 verifiers computed here, so role passwords never reach the server (or its error log) in clear text,
// and an unchanged password is recognised without rewriting it.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

const ITERATIONS = 4096;

function keysOf(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return { storedKey: createHash('sha256').update(clientKey).digest(), serverKey: createHmac('sha256', salted).update('Server Key').digest() };
}

/** Whether the password is plain printable ASCII, where SASLprep changes nothing (others go to the server as is). */
export function canHashLocally(password: string): boolean {
  return /^[\x20-\x7e]*$/.test(password);
}

/** `SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>`, as PostgreSQL stores it in pg_authid.rolpassword. */
export function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const { storedKey, serverKey } = keysOf(password, salt, ITERATIONS);
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Whether a stored verifier accepts `password` (false for anything that is not an ASCII password's SCRAM verifier). */
export function verifierMatches(stored: string | null | undefined, password: string): boolean {
  if (!stored || !canHashLocally(password)) return false;
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(stored);
  if (!m) return false;
  const { storedKey, serverKey } = keysOf(password, Buffer.from(m[2]!, 'base64'), Number(m[1]));
  const wantStored = Buffer.from(m[3]!, 'base64');
  const wantServer = Buffer.from(m[4]!, 'base64');
  return wantStored.length === storedKey.length && wantServer.length === serverKey.length && timingSafeEqual(wantStored, storedKey) && timingSafeEqual(wantServer, serverKey);
}
