// Asks a postgres binary its version (`postgres (PostgreSQL) 18.4`), which also proves it loads its libraries.
import { join } from 'node:path';
import { MachineroomError } from '../errors/index.js';
import { runBinary, tailLines } from './run-binary.js';
import type { PgUser } from './types.js';

/** Runs `<binDir>/postgres --version` (as `user` when given) and parses "18.4" / major 18. */
export async function readEngineVersion(binDir: string, env: Record<string, string>, user: PgUser | undefined, what: string): Promise<{ version: string; major: number }> {
  const postgres = join(binDir, 'postgres');
  let r;
  try {
    r = await runBinary(postgres, ['--version'], { env, cwd: '/', timeoutMs: 30_000, ...(user ? { user } : {}) });
  } catch (err) {
    throw new MachineroomError('ERR_INTERNAL', `${what}: cannot run ${postgres}${user ? ` as ${user.name}` : ''}: ${(err as Error).message}`, { cause: err });
  }
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(r.stdout);
  if (r.code !== 0 || !m) {
    throw new MachineroomError(
      'ERR_INTERNAL',
      `${what}: ${postgres} --version${user ? ` (as ${user.name})` : ''} failed (exit ${r.code ?? r.signal}): ${tailLines(r.stderr + r.stdout) || 'no output'}`,
    );
  }
  const major = Number(m[1]);
  return { version: m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`, major };
}
