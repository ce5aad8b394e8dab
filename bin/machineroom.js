#!/usr/bin/env node
// machineroom's command line. The TypeScript sources are compiled to dist/ by `npm install` (the prepare script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('machineroom is not built yet: run `npm install` (or `npm run build`) in its directory first\n');
  process.exit(1);
}
await import(entry.href);
