// machineroom's own version and where its package lives, found once from package.json: the CLI refuses to drive a
// daemon of another version, and spawns its daemon through bin/machineroom.js.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function findPackage(): { root: string; version: string } {
  // dist/src/client/version.js when compiled, dist/bundle/<chunk>.js when bundled.
  for (const rel of ['../../../', '../../']) {
    try {
      const root = new URL(rel, import.meta.url);
      const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'machineroom' && pkg.version) return { root: fileURLToPath(root), version: pkg.version };
    } catch {
      /* try the next layout */
    }
  }
  return { root: fileURLToPath(new URL('../../../', import.meta.url)), version: '0.0.0-unknown' };
}

const found = findPackage();

/** This build's version. */
export const VERSION: string = found.version;

/** The package's root directory (where package.json, bin/ and dist/ are), with a trailing slash. */
export const PACKAGE_ROOT: string = found.root;
