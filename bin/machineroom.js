#!/usr/bin/env node
// machineroom's command line. `npm install` (the prepare script) compiles the TypeScript sources to dist/src and bundles
// them into dist/bundle (faster to start); the bundle is used while it is newer than the last compile.
import { existsSync, statSync } from 'node:fs';

const mtime = (url) => {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return -1;
  }
};
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
const bundled = new URL('../dist/bundle/cli.js', import.meta.url);
if (!existsSync(compiled) && !existsSync(bundled)) {
  process.stderr.write('machineroom is not built yet: run `npm install` (or `npm run build`) in its directory first\n');
  process.exit(1);
}
const entry = mtime(bundled) >= mtime(new URL('../dist/.tsbuildinfo', import.meta.url)) ? bundled : compiled;
await import(entry.href);
