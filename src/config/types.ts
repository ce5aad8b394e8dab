// The resolved config: what the daemon and supervisor consume. User-facing option types live in schema.ts.

/** Milliseconds. Config durations ("5s", "250ms", "1m30s") resolve to this. */
export type Millis = number;

/** How instances get their own addresses. */
export type MachineMode = 'loopback' | 'port';

/** When a dependent may start. */
export type DependsCondition = 'started' | 'healthy' | 'completed';

/** What happens when an instance's process exits. */
export type RestartPolicy = 'no' | 'on-failure' | 'always';

/** Where a value came from in a config file, for error messages. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** A readiness check, run against one instance. */
export interface ResolvedHealth {
  /** postgres: a query as the first database's owner (the resource's own check; the probe is supplied at launch). */
  kind: 'http' | 'tcp' | 'cmd' | 'postgres';
  /** http: request path, starting with "/". */
  path?: string;
  /** http/tcp: the named port to check (default: the first port). */
  port?: string;
  /** cmd: argv, run with the instance's environment. */
  command?: string[];
  interval: Millis;
  timeout: Millis;
  /** Failures during this time after start do not count (Docker's start_period, k8s startupProbe). */
  startPeriod: Millis;
  successThreshold: number;
  failureThreshold: number;
  /** Restart the instance when the check turns critical (a liveness check). Opt-in. */
  restart: boolean;
}

/** A command run before a service's instances start. */
export interface ResolvedBuild {
  command: string[];
  cwd: string;
  /** Files or directories whose contents feed the instance version. */
  outputs: string[];
}

/** One named port of a service. In loopback mode every instance uses it as is. */
export interface ResolvedPort {
  name: string;
  port: number;
}

/** One database of a postgres resource. */
export interface ResolvedDatabase {
  name: string;
  /** The owner role apps log in as. */
  user: string;
  /** Configured password; absent: generated once and kept beside the data. */
  password?: string;
  /** Absolute SQL files run once when the database is created. */
  init: string[];
  /** Absolute migrations directory. */
  migrations?: string;
}

/** What makes a service a PostgreSQL resource. */
export interface ResolvedPostgres {
  engine: 'embedded' | 'system' | 'external';
  /** external: the server's URL. */
  url?: string;
  /** system: where initdb and postgres are (default: PATH). */
  binDir?: string;
  /** Managed engines: databases to provision (the first is the default one); external: the URL's database. */
  databases: ResolvedDatabase[];
  /** -c name=value settings. */
  settings: Record<string, string>;
}

/** A service after defaults, interpolation, env files and validation. */
export interface ResolvedService {
  name: string;
  /** argv; a string command becomes ["/bin/sh", "-c", command]. */
  command: string[];
  cwd: string;
  /** env_file contents merged under env (env wins). */
  env: Record<string, string>;
  /** Absolute paths of env files (their contents are in `env`, and feed the version). */
  envFiles: string[];
  build?: ResolvedBuild;
  replicas: number;
  /** The first port is the primary one ($PORT). Empty when the service listens on nothing. */
  ports: ResolvedPort[];
  health?: ResolvedHealth;
  dependsOn: { service: string; condition: DependsCondition }[];
  restart: { policy: RestartPolicy; backoff: Millis; maxBackoff: Millis };
  stopSignal: NodeJS.Signals;
  stopGrace: Millis;
  tags: string[];
  /** Log this service's requests through the front door; undefined follows front_door.access_log. */
  accessLog?: boolean;
  /** What the primary port speaks: per-request routing (http) or whole connections (tcp) at the service address. */
  protocol: 'http' | 'tcp';
  /** Extra front-door routes (host names and/or path prefixes). */
  routes: { hosts: string[]; paths: string[]; strip: boolean }[];
  meta: Record<string, string>;
  profiles: string[];
  /** Set when the service is a `postgres:` resource: the daemon supplies its command at launch. */
  postgres?: ResolvedPostgres;
  /** Where the service is declared. */
  source?: SourcePos;
}

/** The embedded service bus's settings. */
export interface ResolvedBus {
  datacenter: string;
  node: string;
  domain: string;
  /** Preferred DNS port (0: any free one). */
  dnsPort: number;
  recursors: string[];
  enableScriptChecks: boolean;
}

/** The front door's settings. */
export interface ResolvedFrontDoor {
  /** Preferred HTTP port (0: any free one). */
  httpPort: number;
  /** Preferred HTTPS port (0: any free one). */
  httpsPort: number;
  /** Proxy worker processes besides the daemon ('auto': one per core, at most 3; none on a single core). */
  workers: number | 'auto';
  balancer: 'least-conn' | 'round-robin' | 'p2c';
  drainTimeout: Millis;
  /** Log every proxied request (services may override). */
  accessLog: boolean;
}

/** The whole project, resolved. */
export interface ResolvedConfig {
  /** Project name: `name:` or the project directory's name, lower-cased to [a-z0-9-]. */
  name: string;
  /** The directory of the first config file. */
  projectDir: string;
  /** The config files, absolute, in override order. */
  files: string[];
  machineMode: MachineMode;
  /** Preferred port of the daemon's control/bus HTTP listener (moves to a free one when another project holds it). */
  apiPort: number;
  /** The embedded bus. */
  bus: ResolvedBus;
  /** The front door. */
  frontDoor: ResolvedFrontDoor;
  /** KV seeds: written when the key does not exist yet. */
  kv: Record<string, string>;
  /** KV prefixes whose values are secret. */
  secrets: string[];
  /** Active services (profiles applied), keyed by name. */
  services: Record<string, ResolvedService>;
  /** Service names in dependency order (dependencies first). */
  order: string[];
}
