import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { MachineroomError } from '../../src/errors/index.js';
import { createTempProjects, yaml } from './temp-project.js';

const projects = createTempProjects();
after(() => projects.cleanup());

interface BadConfig {
  name: string;
  text: string;
  env?: Record<string, string>;
  message: string;
}

const cases: BadConfig[] = [
  {
    name: 'unknown key with a did-you-mean',
    text: yaml('services:', '  alpha:', '    command: ./alpha', '    ports: {http: 8080}', '    replica: 3'),
    message: 'services.alpha.replica: unknown key; did you mean "replicas"? (machineroom.yml:5:5)',
  },
  {
    name: 'unknown key with no close match lists the allowed keys',
    text: yaml('name: shop', 'colour: blue', 'services: {}'),
    message: 'colour: unknown key; allowed keys are $schema, name, machines, api_port, front_door, bus, kv, secrets, postgres, services (machineroom.yml:2:1)',
  },
  {
    name: 'a Compose key name points at ours',
    text: yaml('services:', '  web:', '    command: ./web', '    environment: {A: "1"}'),
    message: 'services.web.environment: unknown key; did you mean "env"? (machineroom.yml:4:5)',
  },
  {
    name: 'wrong type: a word for an integer',
    text: yaml('services:', '  alpha:', '    command: ./alpha', '    replicas: three'),
    message: 'services.alpha.replicas: expected an integer >= 0, got "three" (machineroom.yml:4:15)',
  },
  {
    name: 'wrong type: a map for a command',
    text: yaml('services:', '  alpha:', '    command: {run: x}'),
    message: 'services.alpha.command: expected a command string or a non-empty list of arguments, got a map (machineroom.yml:3:14)',
  },
  {
    name: 'a postgres resource named like a service',
    text: yaml('postgres:', '  db: {}', 'services:', '  db:', '    command: ./db'),
    message: 'postgres.db: "db" is also a service; resources and services share one namespace (both are services on the bus), rename one (machineroom.yml:2:3)',
  },
  {
    name: 'an external postgres resource without a url',
    text: yaml('postgres:', '  db:', '    engine: external', 'services: {}'),
    message: 'postgres.db: the external engine needs url: postgres://user:password@host:port/database (machineroom.yml:3:5)',
  },
  {
    name: 'a url on an embedded postgres resource',
    text: yaml('postgres:', '  db:', '    url: postgres://u:p@127.0.0.1/x', 'services: {}'),
    message: "postgres.db.url: url is for engine: external (this resource's engine is embedded); remove url or set engine: external (machineroom.yml:3:5)",
  },
  {
    name: 'an external URL without a database',
    text: yaml('postgres:', '  db:', '    engine: external', '    url: postgres://u:p@127.0.0.1:5432', 'services: {}'),
    message: 'postgres.db.url: the URL must name a host, a user and a database (postgres://user:password@host:5432/database), got "postgres://u:***@127.0.0.1:5432" (machineroom.yml:4:5)',
  },
  {
    name: 'a bad database name',
    text: yaml('postgres:', '  db:', '    databases:', '      Host-Count: {}', 'services: {}'),
    message: 'postgres.db.databases: invalid key "Host-Count"; a database name is lowercase letters, digits and "_", starting with a letter or "_" (machineroom.yml:4:7)',
  },
  {
    name: 'depends_on a postgres resource with condition completed',
    text: yaml('postgres:', '  db: {}', 'services:', '  web:', '    command: ./web', '    depends_on: {db: completed}'),
    message: 'services.web.depends_on.db: condition "completed" never holds for the database resource db (it keeps running); use "healthy" (machineroom.yml:6:18)',
  },
  {
    name: 'missing required key',
    text: yaml('services:', '  alpha:', '    replicas: 2'),
    message: 'services.alpha: missing required key "command" (machineroom.yml:2:3)',
  },
  {
    name: 'bad duration',
    text: yaml('services:', '  alpha:', '    command: ./alpha', '    port: 8080', '    health:', '      http: /healthz', '      interval: abc'),
    message: 'services.alpha.health.interval: expected a duration like "5s", got "abc" (machineroom.yml:7:17)',
  },
  {
    name: 'a bare number for a duration',
    text: yaml('services:', '  alpha:', '    command: ./alpha', '    stop_grace: 5'),
    message: 'services.alpha.stop_grace: expected a duration like "5s", got 5; write "5s" (machineroom.yml:4:17)',
  },
  {
    name: 'port out of range',
    text: yaml('services:', '  web:', '    command: ./web', '    port: 70000'),
    message: 'services.web.port: expected a port 1-65535, got 70000 (machineroom.yml:4:11)',
  },
  {
    name: 'named port out of range',
    text: yaml('services:', '  web:', '    command: ./web', '    ports:', '      http: 8080', '      admin: 0'),
    message: 'services.web.ports.admin: expected a port 1-65535, got 0 (machineroom.yml:6:14)',
  },
  {
    name: 'invalid service name',
    text: yaml('services:', '  Web_1:', '    command: ./web'),
    message: 'services: invalid key "Web_1"; a service name is lowercase letters, digits and "-", starts with a letter and has at most 63 characters (machineroom.yml:2:3)',
  },
  {
    name: 'unknown depends_on target (list form)',
    text: yaml('services:', '  db:', '    command: ./db', '  web:', '    command: ./web', '    depends_on: [cache, dbb]', '  cache:', '    command: ./cache'),
    message: 'services.web.depends_on: unknown service "dbb"; did you mean "db"? (machineroom.yml:6:25)',
  },
  {
    name: 'unknown depends_on target (map form, nothing close)',
    text: yaml('services:', '  db:', '    command: ./db', '  web:', '    command: ./web', '    depends_on:', '      queue: {condition: started}'),
    message: 'services.web.depends_on: unknown service "queue"; services are db, web (machineroom.yml:7:7)',
  },
  {
    name: 'dependency cycle',
    text: yaml('services:', '  alpha:', '    command: ./alpha', '    depends_on: [beta]', '  beta:', '    command: ./beta', '    depends_on:', '      alpha: started'),
    message: 'services: dependency cycle alpha -> beta -> alpha (machineroom.yml:4:18)',
  },
  {
    name: 'longer cycle starts at its earliest service',
    text: yaml('services:', '  web:', '    command: ./web', '    depends_on: [b]', '  a:', '    command: ./a', '    depends_on: [c]', '  b:', '    command: ./b', '    depends_on: [a]', '  c:', '    command: ./c', '    depends_on: [b]'),
    message: 'services: dependency cycle a -> c -> b -> a (machineroom.yml:7:18)',
  },
  {
    name: 'health with two kinds',
    text: yaml('services:', '  web:', '    command: ./web', '    port: 8080', '    health:', '      http: /', '      tcp: true'),
    message: 'services.web.health: set exactly one of http, tcp, cmd (found http, tcp) (machineroom.yml:5:5)',
  },
  {
    name: 'health with no kind',
    text: yaml('services:', '  web:', '    command: ./web', '    health: {interval: 1s}'),
    message: 'services.web.health: set exactly one of http, tcp, cmd (machineroom.yml:4:5)',
  },
  {
    name: 'health.port names a port that does not exist',
    text: yaml('services:', '  web:', '    command: ./web', '    ports: {http: 8080, admin: 8081}', '    health: {http: /, port: admn}'),
    message: 'services.web.health.port: unknown port "admn"; did you mean "admin"? (machineroom.yml:5:29)',
  },
  {
    name: 'http health without a port',
    text: yaml('services:', '  web:', '    command: ./web', '    health: {http: /healthz}'),
    message: 'services.web.health: a http check needs a port; set port or ports on the service (machineroom.yml:4:5)',
  },
  {
    name: 'http path must start with /',
    text: yaml('services:', '  web:', '    command: ./web', '    port: 80', '    health: {http: healthz}'),
    message: 'services.web.health.http: expected a path starting with "/", got "healthz" (machineroom.yml:5:20)',
  },
  {
    name: 'port and ports together',
    text: yaml('services:', '  web:', '    command: ./web', '    port: 8080', '    ports: {http: 8080}'),
    message: 'services.web: set either port or ports, not both (machineroom.yml:5:5)',
  },
  {
    name: 'depends_on healthy needs a health check',
    text: yaml('services:', '  db:', '    command: ./db', '  web:', '    command: ./web', '    depends_on: {db: healthy}'),
    message: 'services.web.depends_on.db: condition "healthy" needs a health check on db; add services.db.health or use "started" (machineroom.yml:6:18)',
  },
  {
    name: 'restart policy',
    text: yaml('services:', '  web:', '    command: ./web', '    restart: sometimes'),
    message: 'services.web.restart: expected one of "no", "on-failure", "always" or a map with policy, backoff and max_backoff, got "sometimes" (machineroom.yml:4:14)',
  },
  {
    name: 'stop signal',
    text: yaml('services:', '  web:', '    command: ./web', '    stop_signal: SIGSTOP'),
    message: 'services.web.stop_signal: expected a signal name like "SIGTERM" (SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2 or SIGKILL; the SIG prefix is optional), got "SIGSTOP" (machineroom.yml:4:18)',
  },
  {
    name: 'env list item without a name',
    text: yaml('services:', '  web:', '    command: ./web', '    env:', '      - =value'),
    message: 'services.web.env[0]: expected "NAME=value", got "=value" (machineroom.yml:5:9)',
  },
  {
    name: 'YAML syntax error',
    text: yaml('services:', '  web:', '    command: "./web', '    port: 8080'),
    message: 'invalid YAML: Missing closing "quote (machineroom.yml:5:1)',
  },
  {
    name: 'YAML duplicate key',
    text: yaml('services:', '  web:', '    command: ./web', '    command: ./other'),
    message: 'invalid YAML: Map keys must be unique (machineroom.yml:4:5)',
  },
  {
    name: 'unset ${VAR:?message}',
    text: yaml('services:', '  web:', '    command: ./web', '    env:', '      DATABASE_URL: ${DATABASE_URL:?point it at your database}'),
    message: 'services.web.env.DATABASE_URL: required variable DATABASE_URL is unset or empty (point it at your database); set it in the environment or in .env (machineroom.yml:5:21)',
  },
  {
    name: 'empty ${VAR?message} is fine but unset is not',
    text: yaml('services:', '  web:', '    command: ./web ${A?} ${B?needed}'),
    env: { A: '' },
    message: 'services.web.command: required variable B is unset (needed); set it in the environment or in .env (machineroom.yml:3:14)',
  },
  {
    name: 'a lone $',
    text: yaml('services:', '  web:', '    command: echo $1'),
    message: 'services.web.command: invalid "$" in "echo $1"; write "$$" for a literal "$" (machineroom.yml:3:14)',
  },
  {
    name: 'a route claiming the dashboard\'s host',
    text: yaml('services:', '  web:', '    command: ./web', '    port: 8080', '    routes:', '      - hosts: [shop.localhost, Machineroom.Localhost]'),
    message:
      'services.web.routes[0].hosts[1]: "Machineroom.Localhost" is reserved: the front door serves the machineroom dashboard there; choose another host name (web.localhost already reaches this service) (machineroom.yml:6:33)',
  },
  {
    name: 'the top level is not a map',
    text: yaml('- web'),
    message: 'expected a map, got a list (machineroom.yml:1:1)',
  },
];

for (const bad of cases) {
  test(`bad config: ${bad.name}`, async () => {
    const dir = await projects.create({ 'machineroom.yml': bad.text });
    const err = await loadConfig({ cwd: dir, env: bad.env ?? {} }).then(
      () => assert.fail('expected loadConfig to throw'),
      (caught: unknown) => caught,
    );
    assert.ok(err instanceof MachineroomError, `expected a MachineroomError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_CONFIG_INVALID');
    assert.equal(err.message, bad.message);
    const position = /\(machineroom\.yml:(\d+):(\d+)\)$/.exec(bad.message)!;
    assert.equal(err.details?.file, path.join(dir, 'machineroom.yml'));
    assert.equal(err.details?.line, Number(position[1]));
    assert.equal(err.details?.col, Number(position[2]));
    assert.equal(err.details?.path, bad.message.startsWith('invalid YAML') || bad.message.startsWith('expected a map') ? '' : bad.message.slice(0, bad.message.indexOf(':')));
  });
}

test('the first error in document order wins', async () => {
  const dir = await projects.create({ 'machineroom.yml': yaml('services:', '  b:', '    command: ./b', '    replicas: x', '  a:', '    command: ./a', '    replica: 1') });
  await assert.rejects(loadConfig({ cwd: dir, env: {} }), { message: 'services.b.replicas: expected an integer >= 0, got "x" (machineroom.yml:4:15)' });
});
