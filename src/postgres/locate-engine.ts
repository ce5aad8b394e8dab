// One entry point for both engines, so the daemon picks by config value.
import { locateEmbedded } from './embedded-engine.js';
import { locateSystem } from './system-engine.js';
import type { ManagedEngineKind, PgEngine, PgUser } from './types.js';

/** Options for locateEngine; `name` (the resource) makes error messages point at the right config key. */
export interface LocateEngineOptions {
  stateDir: string;
  binDir?: string;
  user?: PgUser;
  /** PATH to search for the system engine (default: process.env.PATH). */
  path?: string;
  /** Searched after PATH for the system engine (default: /usr/lib/postgresql/N/bin, /usr/pgsql-N/bin, Homebrew). */
  fallbackDirs?: string[];
  name?: string;
}

/** Finds the binaries of an engine and proves they run; throws a MachineroomError saying what is missing and how to fix it. */
export function locateEngine(kind: ManagedEngineKind, opts: LocateEngineOptions): Promise<PgEngine> {
  switch (kind) {
    case 'embedded':
      return locateEmbedded({ stateDir: opts.stateDir, ...(opts.user ? { user: opts.user } : {}) });
    case 'system':
      return locateSystem(opts);
  }
}
