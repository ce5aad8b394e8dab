// machineroom's own version, read once from package.json: the CLI refuses to drive a daemon of another one.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'machineroom' && pkg.version) return pkg.version;
    } catch {
      /* try the next layout */
    }
  }
  return '0.0.0-unknown';
}

/** This build's version. */
export const VERSION: string = readVersion();
