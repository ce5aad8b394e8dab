// An instance's version: a hash of its resolved spec (env files' contents included) and of its build outputs.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedService } from '../config/index.js';

/** Hash of what, when changed, means the service's instances must be replaced (replicas excluded: scaling is not a change). */
export function specHashOf(spec: ResolvedService): string {
  const { replicas: _r, source: _s, profiles: _p, ...rest } = spec;
  const h = createHash('sha256').update(JSON.stringify(rest));
  for (const f of spec.envFiles) {
    try {
      h.update(readFileSync(f));
    } catch {
      h.update(`missing:${f}`);
    }
  }
  return h.digest('hex');
}

function hashPath(h: ReturnType<typeof createHash>, path: string, depth = 0): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    h.update(`missing:${path}`);
    return;
  }
  if (st.isDirectory()) {
    if (depth > 20) return;
    for (const name of readdirSync(path).sort()) {
      if (name === 'node_modules' || name === '.git' || name === '.machineroom') continue;
      h.update(`dir:${name}`);
      hashPath(h, join(path, name), depth + 1);
    }
  } else if (st.isFile()) {
    h.update(readFileSync(path));
  }
}

/** The version shown in `ps`: 8 hex characters over the spec hash and the build outputs' contents. */
export function versionOf(specHash: string, buildOutputs: string[]): string {
  const h = createHash('sha256').update(specHash);
  for (const p of buildOutputs) {
    h.update(`out:${p}`);
    hashPath(h, p);
  }
  return h.digest('hex').slice(0, 8);
}
