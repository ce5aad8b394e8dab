// Acceptance: each bad config gives one clear error with file:line:column, exit code 2, and starts nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli, cleanupProject, scanInstances, testEnv } from '../support/cli.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await cleanupProject(d);
});

const CASES: { name: string; yml: string; where: RegExp; says: RegExp }[] = [
  { name: 'unknown key', yml: 'services:\n  web:\n    command: sleep 9\n    replica: 2\n', where: /machineroom\.yml:4:5/, says: /did you mean "replicas"/ },
  { name: 'wrong type', yml: 'services:\n  web:\n    command: sleep 9\n    replicas: three\n', where: /machineroom\.yml:4:15/, says: /replicas.*"three"/ },
  { name: 'bad duration', yml: 'services:\n  web:\n    command: sleep 9\n    health:\n      tcp: true\n      interval: abc\n', where: /machineroom\.yml:6:17/, says: /duration like "5s".*"abc"/ },
  { name: 'unknown depends_on target', yml: 'services:\n  web:\n    command: sleep 9\n    depends_on: [dbb]\n  db:\n    command: sleep 9\n', where: /machineroom\.yml:4:\d+/, says: /unknown service "dbb".*did you mean "db"/ },
  { name: 'dependency cycle', yml: 'services:\n  alpha:\n    command: sleep 9\n    depends_on: [beta]\n  beta:\n    command: sleep 9\n    depends_on: [alpha]\n', where: /machineroom\.yml:\d+:\d+/, says: /cycle.*alpha.*beta.*alpha|cycle.*beta.*alpha.*beta/ },
  { name: 'port out of range', yml: 'services:\n  web:\n    command: sleep 9\n    port: 70000\n', where: /machineroom\.yml:4:11/, says: /70000/ },
  { name: 'YAML syntax error', yml: 'services:\n  web:\n    command: [sleep, 9\n', where: /machineroom\.yml:\d+:\d+/, says: /./ },
  { name: 'unset ${VAR:?}', yml: 'services:\n  web:\n    command: sleep 9\n    env:\n      DB: ${MR_TEST_SURELY_UNSET:?set the database URL}\n', where: /machineroom\.yml:5:11/, says: /set the database URL/ },
];

for (const c of CASES) {
  test(`bad config: ${c.name}`, async () => {
    const dir = makeProject({ 'machineroom.yml': c.yml });
    dirs.push(dir);
    const r = await runCli(['up', '-d'], { cwd: dir, env: testEnv() });
    assert.equal(r.code, 2, `exit code 2; got ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, c.where);
    assert.match(r.stderr, c.says);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one error line:\n${r.stderr}`);
    assert.equal(existsSync(join(dir, '.machineroom', 'daemon.json')), false, 'no daemon started');
    assert.equal(scanInstances(dir).size, 0, 'nothing started');
    const check = await runCli(['config'], { cwd: dir });
    assert.equal(check.code, 2, '`config` reports the same error');
  });
}
