// "The machine room": one interface that the in-process daemon and the HTTP client both implement,
// so the CLI, the dashboard and tests can drive either.
import type { ResolvedConfig } from '../config/index.js';
import type { LogFilter, LogLine, MachineroomEvent } from '../supervisor/index.js';
import type { InstanceStatus, ServiceStatus } from './status.js';
import type { InstanceStats, RouteInfo } from '../frontdoor/index.js';

/** Who the daemon is. */
export interface DaemonInfo {
  version: string;
  pid: number;
  project: string;
  projectId: string;
  projectDir: string;
  apiUrl: string;
  startedAt: string;
  machineMode: string;
  /** KV prefixes whose values are masked (from the applied config). */
  secrets: string[];
  /** The front door: http://<service>.localhost:<port>/ reaches a service. */
  frontDoorUrl?: string;
  /** https://localhost:<port>, when the front door serves HTTPS. */
  frontDoorHttpsUrl?: string;
}

/** Everything `ps` shows. */
export interface RoomStatus {
  info: DaemonInfo;
  services: ServiceStatus[];
  instances: InstanceStatus[];
}

/** What `apply` did. */
export interface ApplyResult {
  added: string[];
  changed: string[];
  removed: string[];
  /** KV seeds: keys written because they did not exist, and keys whose stored value differs from the seed (kept). */
  kv?: { seeded: string[]; differs: string[] };
}

/** A one-off process's environment, leased machine included. */
export interface RunLease {
  runId: string;
  env: Record<string, string>;
  cwd: string;
  command: string[];
}

/** One instance's traffic through the front door (the front door's own counters). */
export type InstanceTraffic = InstanceStats;

/** The front door as the control API reports it. */
export interface Traffic {
  url: string;
  /** https://localhost:<port>, when the front door serves HTTPS. */
  httpsUrl?: string;
  routes: RouteInfo[];
  /** Each service's own address, served by the front door. */
  addresses: Array<{ service: string; host: string; port: number; protocol: 'http' | 'tcp'; url: string }>;
  instances: InstanceTraffic[];
}

/** A db verb on a database resource: info, reset (a new empty cluster), snapshot to / restore from a file. */
export interface DatabaseAction {
  name: string;
  action: 'info' | 'reset' | 'snapshot' | 'restore';
  /** snapshot/restore: an absolute path on the daemon's machine. */
  file?: string;
}

/** Where a database resource is and how to log in to each of its databases. */
export interface DatabaseInfo {
  name: string;
  engine: 'embedded' | 'system' | 'external';
  dataDir?: string;
  databases: Array<{ name: string; user: string; url?: string }>;
}

/** The operations of a running machine room. */
export interface MachineRoom {
  info(): Promise<DaemonInfo>;
  apply(config: ResolvedConfig): Promise<ApplyResult>;
  status(): Promise<RoomStatus>;
  scale(changes: Record<string, number>): Promise<void>;
  restart(target: string): Promise<string[]>;
  stopService(service: string): Promise<void>;
  startService(service: string): Promise<void>;
  logs(filter: LogFilter & { follow?: boolean }, signal?: AbortSignal): AsyncIterable<LogLine>;
  events(opts: { follow?: boolean }, signal?: AbortSignal): AsyncIterable<MachineroomEvent>;
  instanceEnv(name: string): Promise<Record<string, string>>;
  runLease(service: string): Promise<RunLease>;
  releaseRun(runId: string): Promise<void>;
  /** A db verb on a database resource; data verbs stop it, act, start it again and resolve once it is healthy. */
  database(action: DatabaseAction): Promise<DatabaseInfo>;
  /** Asks the daemon to stop everything and exit; resolves once it has begun. */
  shutdown(): Promise<void>;
  /** The front door's routes and per-instance counters (requests, errors, in flight, p50/p99 ms). */
  traffic(): Promise<Traffic>;
}
