// Instance and service states as `ps`, `--wait` and the control API see them.

/** Where an instance's process is in its life. */
export type ProcessState =
  | 'waiting' // for dependencies or the service's build
  | 'starting' // spawned, not yet running long enough to count
  | 'running'
  | 'stopping' // deregistered, signalled, within its grace period
  | 'backoff' // exited, restarting after a delay
  | 'crashloop' // exited soon after start several times in a row; still restarting, with backoff
  | 'exited' // exited, and its restart policy says no more
  | 'stopped' // stopped on purpose
  | 'failed'; // could not be started (spawn error, build failed)

/** What its readiness check says. `none`: the service has no check (it counts as passing). */
export type HealthState = 'none' | 'starting' | 'passing' | 'warning' | 'critical';

/** An instance's last exit. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  at: number;
}

/** One instance, as `ps --json` prints it. */
export interface InstanceStatus {
  name: string;
  instanceId: string;
  service: string;
  index: number;
  state: ProcessState;
  health: HealthState;
  healthOutput?: string;
  version: string;
  restarts: number;
  lastExit?: ExitInfo;
  pid?: number;
  startedAt?: number;
  machine?: string;
  address?: string;
  ports: Record<string, number>;
  warning?: string;
  /** Every check the bus holds for the instance (its own, and its machine's node checks). */
  checks?: InstanceCheck[];
}

/** One bus check of an instance, as the dashboard shows it. */
export interface InstanceCheck {
  id: string;
  name: string;
  /** http, tcp, cmd, ttl, postgres, or what an API registration said. */
  kind: string;
  status: 'passing' | 'warning' | 'critical';
  output: string;
  /** When the daemon saw its status or output last change (ms since the epoch). */
  updatedAt?: number;
}

/** A database resource's engine and its databases, with URLs that carry no password. */
export interface PostgresStatus {
  engine: string;
  databases: Array<{ name: string; url: string }>;
}

/** One service's summary. */
export interface ServiceStatus {
  name: string;
  desired: number;
  version?: string;
  build: 'none' | 'running' | 'done' | 'failed';
  buildError?: string;
  stopped: boolean;
  scaled?: number;
  /** The service's own address served by the front door (http://… or tcp://…), when it has a port. */
  address?: string;
  /** A service of the config, or a `postgres:` resource. */
  kind?: 'service' | 'postgres';
  /** Its front-door URLs (http://<name>.localhost:<port>/ and its configured routes). */
  urls?: string[];
  /** A database resource's engine and databases (postgres://user@host:port/db, never a password). */
  postgres?: PostgresStatus;
}

/** Whether an instance counts as ready for `--wait` and `depends_on: healthy`. */
export function isReady(i: Pick<InstanceStatus, 'state' | 'health'>): boolean {
  return i.state === 'running' && (i.health === 'passing' || i.health === 'none');
}

/** Whether an instance is where `up --wait` wants it: ready, or a job that completed (exited 0, not restarted). */
export function isSettled(i: Pick<InstanceStatus, 'state' | 'health' | 'lastExit'>): boolean {
  return isReady(i) || (i.state === 'exited' && i.lastExit?.code === 0);
}

/** Whether an instance has failed for good or is failing over and over (what `--wait` gives up on). */
export function isFailing(i: Pick<InstanceStatus, 'state' | 'health' | 'lastExit'>): boolean {
  if (i.state === 'crashloop' || i.state === 'failed') return true;
  if (i.state === 'exited') return (i.lastExit?.code ?? 1) !== 0;
  return i.state === 'running' && i.health === 'critical';
}
