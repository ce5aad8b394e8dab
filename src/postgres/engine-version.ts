// Asks a postgres binary its version (`postgres (PostgreSQL) 18.4`), which also proves it loads its libraries. The
// answer is remembered (in memory, and in `cacheFile` when given) for that very binary, so a warm start spawns nothing.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/index.js';
import { MachineroomError } from '../errors/index.js';
import { runBinary, tailLines } from './run-binary.js';
import type { PgUser } from './types.js';

/** Runs `<binDir>/postgres --version` (as `user` when given) and parses "18.4" / major 18. */
export async function readEngineVersion(binDir: string, env: Record<string, string>, user: PgUser | undefined, what: string, cacheFile?: string): Promise<{ version: string; major: number }> {
  const postgres = join(binDir, 'postgres');
  const key = identityOf(postgres, env, user);
  const known = key ? (remembered.get(key) ?? readCache(cacheFile, key)) : undefined;
  if (known) return known;
  const found = await askVersion(postgres, env, user, what);
  if (key) {
    remembered.set(key, found);
    if (cacheFile) {
      try {
        writeFileAtomic(cacheFile, JSON.stringify({ key, ...found }) + '\n');
      } catch {
        /* a cache only */
      }
    }
  }
  return found;
}

const remembered = new Map<string, { version: string; major: number }>();

/** The binary as it is now (path, inode, size, mtime), with what it runs with: a changed install asks again. */
function identityOf(postgres: string, env: Record<string, string>, user: PgUser | undefined): string | undefined {
  try {
    const st = statSync(postgres);
    return JSON.stringify([postgres, st.ino, st.size, st.mtimeMs, env, user?.uid ?? null]);
  } catch {
    return undefined;
  }
}

function readCache(file: string | undefined, key: string): { version: string; major: number } | undefined {
  if (!file) return undefined;
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; version?: string; major?: number };
    return c.key === key && typeof c.version === 'string' && typeof c.major === 'number' ? { version: c.version, major: c.major } : undefined;
  } catch {
    return undefined;
  }
}

async function askVersion(postgres: string, env: Record<string, string>, user: PgUser | undefined, what: string): Promise<{ version: string; major: number }> {
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
