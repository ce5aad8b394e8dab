import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.js';
import type { ResolvedConfig, ResolvedService } from '../../src/config/index.js';
import { isErrorCode } from '../../src/errors/index.js';
import { createTempProjects, yaml } from './temp-project.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/config/', import.meta.url));
const projects = createTempProjects();
after(() => projects.cleanup());

/** The defaults a bare `command:` service resolves to, for the tests that only care about a few fields. */
function bareService(name: string, dir: string, line: number, overrides: Partial<ResolvedService> = {}): ResolvedService {
  return {
    name,
    command: ['/bin/sh', '-c', `./${name}`],
    cwd: dir,
    env: {},
    envFiles: [],
    replicas: 1,
    ports: [],
    dependsOn: [],
    restart: { policy: 'on-failure', backoff: 1000, maxBackoff: 30000 },
    stopSignal: 'SIGTERM',
    stopGrace: 10000,
    tags: [],
    protocol: 'http',
    routes: [],
    meta: {},
    profiles: [],
    source: { file: path.join(dir, 'machineroom.yml'), line, col: 3 },
    ...overrides,
  };
}

test('a full config resolves every key, default, path and env file', async () => {
  const dir = path.join(fixtures, 'full');
  const file = path.join(dir, 'machineroom.yml');
  const api = path.join(dir, 'api');
  const config = await loadConfig({ cwd: dir, env: { LOG_LEVEL: 'debug' } });
  const expected: ResolvedConfig = {
    name: 'shop-demo',
    projectDir: dir,
    files: [file],
    machineMode: 'port',
    apiPort: 8600,
    bus: { datacenter: 'dc1', node: 'machineroom', domain: 'consul', dnsPort: 8600, recursors: [], enableScriptChecks: false },
    frontDoor: { httpPort: 8080, httpsPort: 8443, workers: 'auto', balancer: 'least-conn', drainTimeout: 30000, accessLog: false },
    kv: {},
    secrets: [],
    services: {
      db: {
        name: 'db',
        command: ['postgres', '-D', 'data'],
        cwd: dir,
        env: {},
        envFiles: [],
        replicas: 1,
        ports: [{ name: 'default', port: 5432 }],
        health: {
          kind: 'cmd',
          command: ['/bin/sh', '-c', 'pg_isready -q'],
          interval: 1000,
          timeout: 500,
          startPeriod: 10000,
          successThreshold: 2,
          failureThreshold: 5,
          restart: true,
        },
        dependsOn: [],
        restart: { policy: 'on-failure', backoff: 1000, maxBackoff: 30000 },
        stopSignal: 'SIGINT',
        stopGrace: 10000,
        tags: ['primary'],
        protocol: 'http',
        routes: [],
        meta: { version: '15.10', replicated: 'false' },
        profiles: [],
        source: { file, line: 12, col: 3 },
      },
      api: {
        name: 'api',
        command: ['/bin/sh', '-c', 'node server.js --region us'],
        cwd: api,
        env: { DB_HOST: '127.0.0.1', WORKERS: '4', GREETING: 'hello # not a comment', LOG_LEVEL: 'debug', DEBUG: 'true', PRICE: '$5' },
        envFiles: [path.join(api, 'base.env'), path.join(api, 'local.env')],
        build: { command: ['/bin/sh', '-c', 'npm run build'], cwd: api, outputs: [path.join(api, 'dist')] },
        replicas: 3,
        ports: [
          { name: 'http', port: 8080 },
          { name: 'metrics', port: 9100 },
        ],
        health: { kind: 'http', path: '/healthz', port: 'metrics', interval: 5000, timeout: 2000, startPeriod: 0, successThreshold: 1, failureThreshold: 3, restart: false },
        dependsOn: [{ service: 'db', condition: 'healthy' }],
        restart: { policy: 'always', backoff: 500, maxBackoff: 60000 },
        stopSignal: 'SIGTERM',
        stopGrace: 90000,
        tags: ['web', 'us'],
        protocol: 'http',
        routes: [],
        meta: {},
        profiles: [],
        source: { file, line: 27, col: 3 },
      },
      worker: {
        ...bareService('worker', dir, 51),
        env: { QUEUE: 'jobs', TOKEN: 'from dotenv' },
        build: { command: ['/bin/sh', '-c', 'make worker'], cwd: dir, outputs: [] },
        replicas: 0,
        dependsOn: [
          { service: 'api', condition: 'started' },
          { service: 'db', condition: 'started' },
        ],
        restart: { policy: 'no', backoff: 1000, maxBackoff: 30000 },
      },
    },
    order: ['db', 'api', 'worker'],
  };
  assert.deepEqual(config, expected);
});

test('defaults: project name from the directory, machines auto, api port 8500, order by dependencies then declaration', async () => {
  const dir = await projects.create({ 'My_Shop.v2/machineroom.yml': yaml('services:', '  web:', '    command: ./web', '    depends_on: [db]', '  db:', '    command: ./db', '  cache:', '    command: ./cache') });
  const config = await loadConfig({ cwd: path.join(dir, 'My_Shop.v2'), env: {} });
  assert.equal(config.name, 'my-shop-v2');
  assert.equal(config.machineMode, process.platform === 'linux' ? 'loopback' : 'port');
  assert.equal(config.apiPort, 8500);
  assert.deepEqual(config.order, ['db', 'web', 'cache']);
  assert.deepEqual(config.services.cache, bareService('cache', path.join(dir, 'My_Shop.v2'), 7));
});

test('MACHINEROOM_API_PORT overrides api_port, and may be 0', async () => {
  const dir = await projects.create({ 'machineroom.yml': yaml('api_port: 9000', 'services: {}') });
  assert.equal((await loadConfig({ cwd: dir, env: {} })).apiPort, 9000);
  assert.equal((await loadConfig({ cwd: dir, env: { MACHINEROOM_API_PORT: '0' } })).apiPort, 0);
  await assert.rejects(loadConfig({ cwd: dir, env: { MACHINEROOM_API_PORT: 'abc' } }), {
    code: 'ERR_CONFIG_INVALID',
    message: 'MACHINEROOM_API_PORT: expected a port 0-65535 (0 picks a free one), got "abc" (environment)',
  });
});

test('api_port 0 in the file is rejected (only the environment may ask for any free port)', async () => {
  const dir = await projects.create({ 'machineroom.yml': yaml('api_port: 0', 'services: {}') });
  await assert.rejects(loadConfig({ cwd: dir, env: {} }), { message: 'api_port: expected a port 1-65535, got 0 (machineroom.yml:1:11)' });
});

test('later files override earlier ones: maps merge per key, scalars and lists are replaced', async () => {
  const dir = await projects.create({
    'machineroom.yml': yaml('services:', '  web:', '    command: ./web', '    env: {A: "1", B: "2"}', '    tags: [a, b]', '    replicas: 2', '  db:', '    command: ./db'),
    'overrides/local.yml': yaml('services:', '  web:', '    env: {B: "3", C: "4"}', '    tags: [c]', '    cwd: app', '  extra:', '    command: ./extra'),
  });
  const config = await loadConfig({ cwd: dir, env: {}, files: ['machineroom.yml', 'overrides/local.yml'] });
  assert.deepEqual(config.files, [path.join(dir, 'machineroom.yml'), path.join(dir, 'overrides/local.yml')]);
  assert.equal(config.projectDir, dir);
  const web = config.services.web!;
  assert.deepEqual(web.env, { A: '1', B: '3', C: '4' });
  assert.deepEqual(web.tags, ['c']);
  assert.equal(web.replicas, 2);
  assert.equal(web.cwd, path.join(dir, 'overrides', 'app'), 'a relative path resolves against the file that wrote it');
  assert.deepEqual(web.source, { file: path.join(dir, 'machineroom.yml'), line: 2, col: 3 });
  assert.deepEqual(config.order, ['web', 'db', 'extra']);
});

test('an error in an override file names that file', async () => {
  const dir = await projects.create({
    'machineroom.yml': yaml('services:', '  web:', '    command: ./web'),
    'override.yml': yaml('services:', '  web:', '    replicas: -1'),
  });
  await assert.rejects(loadConfig({ cwd: dir, env: {}, files: ['machineroom.yml', 'override.yml'] }), {
    code: 'ERR_CONFIG_INVALID',
    message: 'services.web.replicas: expected an integer >= 0, got -1 (override.yml:3:15)',
  });
});

test('.env feeds interpolation and the process environment wins over it', async () => {
  const dir = await projects.create({
    'machineroom.yml': yaml('services:', '  web:', '    command: ./web --port ${PORT_BASE}', '    env:', '      FROM_ENV: ${ONLY_DOTENV}', '      BOTH: ${BOTH}', '      UNSET: "[${NOPE}]"', '      DEFAULTED: ${NOPE:-fallback}', '      DASH: ${EMPTY-kept}', '      COLON_DASH: ${EMPTY:-replaced}', '      PASSED:', '      NOT_PASSED:'),
    '.env': yaml('PORT_BASE=7000', 'ONLY_DOTENV="dot env"', 'BOTH=from-dotenv', 'EMPTY='),
  });
  const web = (await loadConfig({ cwd: dir, env: { BOTH: 'from-process', PASSED: 'through', NOT_PASSED: undefined } })).services.web!;
  assert.deepEqual(web.command, ['/bin/sh', '-c', './web --port 7000']);
  assert.deepEqual(web.env, { FROM_ENV: 'dot env', BOTH: 'from-process', UNSET: '[]', DEFAULTED: 'fallback', DASH: '', COLON_DASH: 'replaced', PASSED: 'through' });
});

test('$$ is a literal $ and $VAR works without braces', async () => {
  const dir = await projects.create({ 'machineroom.yml': yaml('services:', '  web:', "    command: echo $$HOME costs $$5 for $USER_NAME") });
  const web = (await loadConfig({ cwd: dir, env: { USER_NAME: 'ada' } })).services.web!;
  assert.deepEqual(web.command, ['/bin/sh', '-c', 'echo $HOME costs $5 for ada']);
});

test('interpolated values become numbers and booleans where the schema wants them', async () => {
  const dir = await projects.create({ 'machineroom.yml': yaml('services:', '  web:', '    command: ./web', '    port: ${WEB_PORT}', '    replicas: ${N}', '    health: {tcp: true, restart: "${LIVE}"}') });
  const web = (await loadConfig({ cwd: dir, env: { WEB_PORT: '8080', N: '2', LIVE: 'true' } })).services.web!;
  assert.deepEqual(web.ports, [{ name: 'default', port: 8080 }]);
  assert.equal(web.replicas, 2);
  assert.equal(web.health?.restart, true);
});

test('profiles: inactive by default, activated by option, by MACHINEROOM_PROFILES, by "*", or by an active dependent', async () => {
  const dir = await projects.create({
    'machineroom.yml': yaml(
      'services:',
      '  web:',
      '    command: ./web',
      '  admin:',
      '    command: ./admin',
      '    profiles: [tools]',
      '    depends_on: [mailer]',
      '  mailer:',
      '    command: ./mailer',
      '    profiles: [mail]',
      '  debug:',
      '    command: ./debug',
      '    profiles: [debug]',
    ),
  });
  const names = async (env: Record<string, string>, profiles?: string[]) => Object.keys((await loadConfig({ cwd: dir, env, ...(profiles ? { profiles } : {}) })).services);
  assert.deepEqual(await names({}), ['web']);
  assert.deepEqual(await names({}, ['tools']), ['web', 'admin', 'mailer']);
  assert.deepEqual(await names({ MACHINEROOM_PROFILES: 'debug, mail' }), ['web', 'mailer', 'debug']);
  assert.deepEqual(await names({ MACHINEROOM_PROFILES: 'debug' }, ['tools']), ['web', 'admin', 'mailer', 'debug']);
  assert.deepEqual(await names({}, ['*']), ['web', 'admin', 'mailer', 'debug']);
  const config = await loadConfig({ cwd: dir, env: {}, profiles: ['tools'] });
  assert.deepEqual(config.order, ['web', 'mailer', 'admin']);
  assert.deepEqual(config.services.admin?.profiles, ['tools']);
});

test('a service that depends on a service in an inactive profile pulls it in', async () => {
  const dir = await projects.create({ 'machineroom.yml': yaml('services:', '  web:', '    command: ./web', '    depends_on: [db]', '  db:', '    command: ./db', '    profiles: [data]') });
  const config = await loadConfig({ cwd: dir, env: {} });
  assert.deepEqual(config.order, ['db', 'web']);
});

test('env_file: dotenv syntax, later files win, env wins over files, paths relative to the config file', async () => {
  const dir = await projects.create({
    'conf/machineroom.yml': yaml('services:', '  web:', '    command: ./web', '    env_file: [../env/common.env, local.env]', '    env: {C: from-env}'),
    'env/common.env': ['# comment', 'export A=1', "B='single # kept'", 'C="double\\nline"', 'D=unquoted # comment', 'E="multi', 'line"', ''].join('\n'),
    'conf/local.env': 'A=2\nF=\n',
  });
  const web = (await loadConfig({ cwd: dir, env: {}, files: ['conf/machineroom.yml'] })).services.web!;
  assert.deepEqual(web.env, { A: '2', B: 'single # kept', C: 'from-env', D: 'unquoted', E: 'multi\nline', F: '' });
  assert.deepEqual(web.envFiles, [path.join(dir, 'env/common.env'), path.join(dir, 'conf/local.env')]);
});

test('env_file: a missing file is an error at the entry that names it', async () => {
  const dir = await projects.create({ 'machineroom.yml': yaml('services:', '  web:', '    command: ./web', '    env_file: missing.env') });
  await assert.rejects(loadConfig({ cwd: dir, env: {} }), {
    code: 'ERR_CONFIG_INVALID',
    message: 'services.web.env_file: env file missing.env not found; create it or remove it from env_file (machineroom.yml:4:15)',
  });
});

test('env_file: a malformed line is reported at its line in the env file', async () => {
  const dir = await projects.create({ 'machineroom.yml': yaml('services:', '  web:', '    command: ./web', '    env_file: web.env'), 'web.env': 'A=1\n  not an assignment\n' });
  await assert.rejects(loadConfig({ cwd: dir, env: {} }), { message: 'services.web.env_file: expected KEY=VALUE, got "not an assignment" (web.env:2:3)' });
});

test('discovery: machineroom.yml (or .yaml) in cwd or a parent; file names in messages are relative to cwd', async () => {
  const dir = await projects.create({ 'machineroom.yaml': yaml('services:', '  web:', '    command: ./web', '    replicas: many'), 'src/deep/keep': '' });
  const cwd = path.join(dir, 'src', 'deep');
  await assert.rejects(loadConfig({ cwd, env: {} }), { message: 'services.web.replicas: expected an integer >= 0, got "many" (../../machineroom.yaml:4:15)' });
  const good = await projects.create({ 'machineroom.yml': yaml('services: {}'), 'a/b/keep': '' });
  const config = await loadConfig({ cwd: path.join(good, 'a', 'b'), env: {} });
  assert.equal(config.projectDir, good);
  assert.deepEqual(config.files, [path.join(good, 'machineroom.yml')]);
});

test('discovery: nothing found names the directories searched and suggests -f', async () => {
  const dir = await projects.create({ 'empty/keep': '' });
  const cwd = path.join(dir, 'empty');
  await assert.rejects(loadConfig({ cwd, env: {} }), (err: unknown) => {
    assert.ok(isErrorCode(err, 'ERR_CONFIG_NOT_FOUND'));
    assert.match(err.message, new RegExp(`^no machineroom.yml or machineroom.yaml in ${cwd} or any parent directory \\(searched ${cwd}, ${dir}, `));
    assert.match(err.message, /pass its path with -f <file>$/);
    return true;
  });
});

test('an explicit file that does not exist is ERR_CONFIG_NOT_FOUND', async () => {
  const dir = await projects.create({});
  await assert.rejects(loadConfig({ cwd: dir, env: {}, files: ['nope.yml'] }), {
    code: 'ERR_CONFIG_NOT_FOUND',
    message: `config file nope.yml not found (looked for ${path.join(dir, 'nope.yml')}); check the path given with -f`,
  });
});

test('x- extension keys, $schema, anchors and merge keys are accepted', async () => {
  const dir = await projects.create({
    'machineroom.yml': yaml('$schema: ./schema.json', 'x-base: &base', '  replicas: 2', '  tags: [shared]', 'services:', '  web:', '    <<: *base', '    x-note: ignored', '    command: ./web', '    tags: [own]'),
  });
  const web = (await loadConfig({ cwd: dir, env: {} })).services.web!;
  assert.equal(web.replicas, 2);
  assert.deepEqual(web.tags, ['own']);
});

test('postgres resources resolve into services: defaults, databases with paths relative to the file, secrets, order', async () => {
  const dir = await projects.create({
    'app/machineroom.yml': yaml(
      'postgres:',
      '  main-db:',
      '    tags: [primary]',
      '    settings: { max_connections: 20, fsync: true }',
      '    databases:',
      '      shop:',
      '        init: [sql/a.sql, sql/b.sql]',
      '        migrations: migrations',
      '      audit: { user: auditor, password: s3cret }',
      '  legacy:',
      '    engine: external',
      '    url: postgres://old:p%40ss@127.0.0.1:6543/crm',
      '  simple: {}',
      'services:',
      '  web:',
      '    command: ./web',
      '    depends_on: { main-db: healthy }',
    ),
  });
  const config = await loadConfig({ cwd: path.join(dir, 'app'), env: {} });
  const app = path.join(dir, 'app');
  const db = config.services['main-db']!;
  assert.equal(db.protocol, 'tcp');
  assert.equal(db.stopSignal, 'SIGINT');
  assert.deepEqual(db.ports, [{ name: 'default', port: 5432 }]);
  assert.equal(db.health?.kind, 'postgres');
  assert.deepEqual(db.tags, ['primary']);
  assert.deepEqual(db.postgres, {
    engine: 'embedded',
    databases: [
      { name: 'shop', user: 'shop', init: [path.join(app, 'sql/a.sql'), path.join(app, 'sql/b.sql')], migrations: path.join(app, 'migrations') },
      { name: 'audit', user: 'auditor', password: 's3cret', init: [] },
    ],
    settings: { max_connections: '20', fsync: 'on' },
  });
  assert.deepEqual(config.services.legacy!.postgres, { engine: 'external', url: 'postgres://old:p%40ss@127.0.0.1:6543/crm', databases: [{ name: 'crm', user: 'old', password: 'p@ss', init: [] }], settings: {} });
  assert.deepEqual(config.services.legacy!.ports, [{ name: 'default', port: 6543 }]);
  assert.deepEqual(config.services.simple!.postgres!.databases, [{ name: 'simple', user: 'simple', init: [] }]);
  assert.deepEqual(config.order, ['main-db', 'legacy', 'simple', 'web']);
  for (const name of ['shop', 'audit', 'crm', 'simple']) assert.ok(config.secrets.includes(`postgres/${name}/password`), name);
});
