// Unit: simple shell-form commands run without /bin/sh in between; anything the shell must interpret keeps it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { directArgv } from '../../src/supervisor/direct-argv.js';

const sh = (script: string) => ['/bin/sh', '-c', script];

test('simple commands are split into words', () => {
  assert.deepEqual(directArgv(sh('node server.js')), ['node', 'server.js']);
  assert.deepEqual(directArgv(sh('  python3   -m   http.server  8000 ')), ['python3', '-m', 'http.server', '8000']);
  assert.deepEqual(directArgv(sh('sleep\t300')), ['sleep', '300']);
  assert.deepEqual(directArgv(sh('./bin/app --port 8080 --verbose')), ['./bin/app', '--port', '8080', '--verbose']);
  assert.deepEqual(directArgv(sh('/usr/bin/env node')), ['/usr/bin/env', 'node']);
});

test('argv that is not exactly ["/bin/sh", "-c", script] is returned as it is', () => {
  const cases = [['node', 'server.js'], ['/bin/sh', '-c'], ['/bin/sh', '-c', 'a', 'b'], ['/bin/bash', '-c', 'node x'], ['/bin/sh', '-e', 'node x'], []];
  for (const argv of cases) assert.equal(directArgv(argv), argv, JSON.stringify(argv));
});

test('an empty or blank script stays with the shell', () => {
  for (const s of ['', '   ']) assert.deepEqual(directArgv(sh(s)), sh(s));
});

test('anything with shell syntax stays /bin/sh -c', () => {
  const scripts = [
    'node a.js; node b.js',
    'node a.js && node b.js',
    'node a.js || true',
    'node a.js | tee out',
    'node a.js > out.log',
    'node a.js < in',
    'node a.js &',
    '(node a.js)',
    'node $APP',
    'node ${APP}',
    'echo `date`',
    'node "my file.js"',
    "node 'my file.js'",
    'node my\\ file.js',
    'ls *.js',
    'ls file?.js',
    'ls [ab].js',
    'node a.js # comment',
    'cd ~',
    'PORT=8080 node a.js',
    'node --inspect=9229 a.js',
    'printf %s x',
    '{ node a.js; }',
    '! false',
    'node a.js\nnode b.js',
  ];
  for (const s of scripts) assert.deepEqual(directArgv(sh(s)), sh(s), s);
});

test('shell builtins stay /bin/sh -c', () => {
  for (const s of ['cd app', 'export X', 'source env.sh', '. env.sh', 'exec node a.js', 'set -e', 'ulimit -n 1024', 'umask 077', 'wait', 'trap exit']) {
    assert.deepEqual(directArgv(sh(s)), sh(s), s);
  }
});

/** Runs argv for real and returns its exit status (or the spawn error code). */
function run(argv: string[]): number | string {
  const [file, ...args] = argv;
  const r = spawnSync(file!, args, { stdio: 'ignore', timeout: 10_000 });
  if (r.error) return (r.error as NodeJS.ErrnoException).code ?? 'error';
  return r.status ?? -1;
}

test('a simple command behaves the same direct as under the shell', () => {
  for (const s of ['true', 'false', 'sh -c exit', 'test -d /tmp']) {
    assert.equal(run(directArgv(sh(s))), run(sh(s)), s);
  }
});

test(
  'builtins with no program of that name (exit, eval, :, unset, shift, read, ...) stay with the shell',
  () => {
    const scripts = ['exit 3', 'eval node a.js', ':', 'unset HOME', 'shift', 'readonly X', 'return', 'times', 'break', 'continue', 'read line'];
    const wrong = scripts.filter((s) => directArgv(sh(s))[0] !== '/bin/sh');
    assert.deepEqual(wrong, []);
    // The behaviour users see: `command: exit 3` should exit 3, not fail to spawn.
    assert.equal(run(directArgv(sh('exit 3'))), 3);
  },
);
