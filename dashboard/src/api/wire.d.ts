// What the daemon sends the dashboard (notes/dashboard-contract.md): the control API's status, traffic, events, log
// lines and KV views, as JSON. A declaration file on purpose: test/dashboard/ imports these types to check, at compile
// time, that the daemon's own types (src/client, src/supervisor) still fit them, and a .d.ts is never emitted.

/** Where an instance's process is in its life. */
export type ProcessState = 'waiting' | 'starting' | 'running' | 'stopping' | 'backoff' | 'crashloop' | 'exited' | 'stopped' | 'failed';

/** What an instance's readiness check says; `none`: the service has no check. */
export type HealthState = 'none' | 'starting' | 'passing' | 'warning' | 'critical';

/** One bus check of an instance. */
export interface CheckView {
  id: string;
  name: string;
  kind: string;
  status: 'passing' | 'warning' | 'critical';
  output: string;
  updatedAt?: number;
}

/** One instance, as `ps --json` prints it. */
export interface InstanceView {
  name: string;
  instanceId: string;
  service: string;
  index: number;
  state: ProcessState;
  health: HealthState;
  healthOutput?: string;
  version: string;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: number };
  pid?: number;
  startedAt?: number;
  machine?: string;
  address?: string;
  ports: Record<string, number>;
  warning?: string;
  checks?: CheckView[];
}

/** A postgres resource's engine and databases (URLs without passwords). */
export interface PostgresView {
  engine: string;
  databases: Array<{ name: string; url: string }>;
}

/** One service's summary. */
export interface ServiceView {
  name: string;
  desired: number;
  version?: string;
  build: 'none' | 'running' | 'done' | 'failed';
  buildError?: string;
  stopped: boolean;
  scaled?: number;
  address?: string;
  kind?: 'service' | 'postgres';
  urls?: string[];
  postgres?: PostgresView;
}

/** Who the daemon is. */
export interface DaemonInfoView {
  version: string;
  pid: number;
  project: string;
  projectId: string;
  projectDir: string;
  apiUrl: string;
  startedAt: string;
  machineMode: string;
  secrets: string[];
  frontDoorUrl?: string;
  frontDoorHttpsUrl?: string;
}

/** Everything `ps` shows. */
export interface RoomStatusView {
  info: DaemonInfoView;
  services: ServiceView[];
  instances: InstanceView[];
}

/** One route of the front door. */
export interface RouteView {
  service: string;
  hosts: string[];
  paths: string[];
  strip: boolean;
  tag?: string;
  instances: number;
  passing: number;
}

/** One upstream instance's counters at the front door (cumulative; rates come from consecutive samples). */
export interface InstanceTrafficView {
  id: string;
  service: string;
  address: string;
  requests: number;
  errors: number;
  inFlight: number;
  p50: number;
  p99: number;
  draining: boolean;
  ejected: boolean;
}

/** The front door's routes and counters. */
export interface TrafficView {
  url: string;
  httpsUrl?: string;
  routes: RouteView[];
  addresses: Array<{ service: string; host: string; port: number; protocol: 'http' | 'tcp'; url: string }>;
  instances: InstanceTrafficView[];
}

/** What kind of thing happened. */
export type EventType =
  | 'daemon'
  | 'config'
  | 'build'
  | 'starting'
  | 'started'
  | 'healthy'
  | 'unhealthy'
  | 'exited'
  | 'restarting'
  | 'crashloop'
  | 'stopping'
  | 'stopped'
  | 'scaled'
  | 'listen'
  | 'error';

/** One event of the daemon. */
export interface EventView {
  seq: number;
  ts: number;
  type: EventType;
  level: 'info' | 'warn' | 'error';
  service?: string;
  instance?: string;
  message: string;
}

/** One line of output (stream `event`: the daemon's own event lines, source `machineroom`). */
export interface LogLineView {
  ts: number;
  source: string;
  service: string;
  stream: 'stdout' | 'stderr' | 'event';
  text: string;
}

/** One KV entry; value is null when secret, binary or over 64 KiB. */
export interface KvEntryView {
  key: string;
  flags: number;
  createIndex: number;
  modifyIndex: number;
  session?: string;
  size: number;
  secret: boolean;
  binary: boolean;
  value: string | null;
}

/** The KV store at one index. */
export interface KvSnapshotView {
  index: number;
  entries: KvEntryView[];
}

/** The first message of the stream. */
export interface HelloView {
  info: DaemonInfoView;
  authenticated: boolean;
}

/** GET /v1/machineroom/kv/<key>: one value in full (secrets revealed). */
export interface KvValueView {
  key: string;
  value: string | null;
  base64: string;
  flags: number;
  modifyIndex: number;
  secret: boolean;
}
