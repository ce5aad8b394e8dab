// The system engine: the machine's own PostgreSQL (initdb and postgres from bin_dir, PATH or the usual install places).
import { accessSync, constants, readdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { MachineroomError } from '../errors/index.js';
import { blockedAdvice, blockingDirectory } from './path-access.js';
import { readEngineVersion } from './engine-version.js';
import type { PgEngine, PgUser } from './types.js';

const INSTALL_HINT = 'install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql)';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function hasServerBinaries(dir: string): boolean {
  return isExecutable(join(dir, 'postgres')) && isExecutable(join(dir, 'initdb'));
}

/** Version-numbered subdirectories of `parent` matching `re` (group 1: the number), newest first, each joined with `tail`. */
function numberedDirs(parent: string, re: RegExp, tail: string): string[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => Number(b.m[1]) - Number(a.m[1]))
    .map((x) => join(parent, x.n, tail));
}

/** Where packaged servers live when they are not on PATH (Debian's postgresql-NN is not), newest version first. */
export function defaultSystemDirs(): string[] {
  return [
    ...numberedDirs('/usr/lib/postgresql', /^(\d+)$/, 'bin'),
    ...numberedDirs('/usr', /^pgsql-(\d+)$/, 'bin'),
    ...numberedDirs('/opt/homebrew/opt', /^postgresql@(\d+)$/, 'bin'),
    ...numberedDirs('/usr/local/opt', /^postgresql@(\d+)$/, 'bin'),
    '/usr/local/pgsql/bin',
  ];
}

/** The first directory holding both binaries: PATH entries (through symlinks to the real install), then `fallbackDirs`. */
function searchBinDir(pathVar: string, fallbackDirs: string[]): string | undefined {
  for (const dir of pathVar.split(delimiter).filter(Boolean)) {
    const postgres = join(dir, 'postgres');
    if (!isExecutable(postgres)) continue;
    const real = dirname(realpathSync(postgres));
    if (hasServerBinaries(real)) return real;
    if (hasServerBinaries(dir)) return dir;
  }
  return fallbackDirs.find(hasServerBinaries);
}

/** Locates the system engine and checks it runs (as `user` when given). */
export async function locateSystem(opts: { binDir?: string; path?: string; fallbackDirs?: string[]; user?: PgUser; name?: string }): Promise<PgEngine> {
  const key = `postgres.${opts.name ?? 'NAME'}`;
  let binDir: string;
  if (opts.binDir !== undefined) {
    const missing = ['initdb', 'postgres'].filter((b) => !isExecutable(join(opts.binDir!, b)));
    if (missing.length > 0) {
      throw new MachineroomError(
        'ERR_CONFIG_INVALID',
        `${key}.bin_dir: ${opts.binDir} has no executable ${missing.join(' or ')}; point bin_dir at the directory holding initdb and postgres (e.g. /usr/lib/postgresql/15/bin), or ${INSTALL_HINT}`,
      );
    }
    binDir = realpathSync(opts.binDir);
  } else {
    const fallback = opts.fallbackDirs ?? defaultSystemDirs();
    const found = searchBinDir(opts.path ?? process.env.PATH ?? '', fallback);
    if (found === undefined) {
      throw new MachineroomError(
        'ERR_CONFIG_INVALID',
        `${key}: engine: system needs PostgreSQL's server binaries (initdb and postgres), found neither on PATH nor in ${fallback.length ? fallback.join(', ') : 'the usual places'}: ${INSTALL_HINT}, or set ${key}.bin_dir to the directory holding them, or use engine: embedded`,
      );
    }
    binDir = found;
  }
  if (opts.user) {
    const blocked = blockingDirectory(join(binDir, 'postgres'), opts.user);
    if (blocked) throw new MachineroomError('ERR_INTERNAL', blockedAdvice(blocked, opts.user, `${key}: the system engine in ${binDir}`));
  }
  const env = { LC_ALL: 'C' };
  const { version, major } = await readEngineVersion(binDir, env, opts.user, `${key}: the system engine in ${binDir}`);
  return { kind: 'system', version, major, binDir, env };
}
