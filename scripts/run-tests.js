#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner; Node 20's --test takes no globs.
import { readdirSync, statSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
// A test that hangs fails after 5 minutes instead of holding CI (the longest ones take about a minute).
const timeout = process.env.TEST_TIMEOUT_MS ?? '300000';
// spec for people on stdout; TAP to a file, from which the closing `N passed, N failed` line is taken.
const tap = join(tmpdir(), `machineroom-tests-${process.pid}.tap`);
const started = Date.now();
const r = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, `--test-timeout=${timeout}`, '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
  { stdio: 'inherit' },
);
let text = '';
try {
  text = readFileSync(tap, 'utf8');
  rmSync(tap, { force: true });
} catch {
  /* the runner died before writing */
}
const count = (key) => Number((text.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
const passed = count('pass');
const failed = count('fail') + count('cancelled');
const skipped = count('skipped');
console.log(`\ntest wall time: ${((Date.now() - started) / 1000).toFixed(1)}s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(r.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
