#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner; Node 20's --test takes no globs.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const only = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js') && (only.length === 0 || only.some((o) => p.includes(o)))) files.push(p);
  }
};
walk(root);
if (files.length === 0) {
  console.error(`no test files found under ${root}${only.length ? ` matching ${only.join(', ')}` : ''}`);
  process.exit(1);
}
// Two cores: two test files at a time keeps real processes, real sockets and the daemon's timers honest.
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
