// The project's `.machineroom/` directory: lock, daemon record, token, instance records, logs and events.
import { mkdirSync, existsSync, writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileAtomic, readJsonFile } from './atomic-write.js';
import { isSameProcess } from '../proc/index.js';

/** Every path inside a project's state directory. */
export interface StatePaths {
  dir: string;
  lock: string;
  daemon: string;
  token: string;
  instances: string;
  logs: string;
  events: string;
  daemonLog: string;
  data: string;
}

/** What a running daemon records about itself, for the CLI to find it. */
export interface DaemonRecord {
  pid: number;
  startTime: number;
  version: string;
  project: string;
  projectId: string;
  projectDir: string;
  apiHost: string;
  apiPort: number;
  /** DNS (UDP and TCP) on apiHost, when the daemon serves it. */
  dnsPort?: number;
  /** The front door's HTTP port on 127.0.0.1. */
  httpPort?: number;
  /** The front door's HTTPS port, when TLS is on. */
  httpsPort?: number;
  startedAt: string;
  attached: boolean;
}

/** A process the supervisor started, recorded so a later sweep can stop it if the daemon died. */
export interface InstanceRecord {
  id: string;
  pid: number;
  pgid: number;
  startTime: number;
  cgroup?: string;
}

/** Paths of the state directory for a project directory. */
export function statePaths(projectDir: string): StatePaths {
  const dir = join(projectDir, '.machineroom');
  return {
    dir,
    lock: join(dir, 'daemon.lock'),
    daemon: join(dir, 'daemon.json'),
    token: join(dir, 'token'),
    instances: join(dir, 'instances.json'),
    logs: join(dir, 'logs'),
    events: join(dir, 'events.jsonl'),
    daemonLog: join(dir, 'daemon.log'),
    data: join(dir, 'data'),
  };
}

/** Creates the state directory with its own .gitignore (so it is never committed). */
export function ensureStateDir(paths: StatePaths): void {
  mkdirSync(paths.logs, { recursive: true });
  const ignore = join(paths.dir, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '# machineroom project state: never commit it\n*\n');
}

/** A stable id for a project: its name plus a short hash of its directory, so same-named projects differ. */
export function projectIdOf(name: string, projectDir: string): string {
  return `${name}-${createHash('sha256').update(projectDir).digest('hex').slice(0, 6)}`;
}

/** Reads the control token, creating it (mode 0600) on first use. */
export function ensureToken(paths: StatePaths): string {
  try {
    const t = readFileSync(paths.token, 'utf8').trim();
    if (t.length >= 32) {
      chmodSync(paths.token, 0o600);
      return t;
    }
  } catch {
    /* make one */
  }
  const token = randomBytes(24).toString('hex');
  writeFileAtomic(paths.token, token + '\n', 0o600);
  return token;
}

/** Reads the control token if it exists. */
export function readToken(paths: StatePaths): string | undefined {
  try {
    return readFileSync(paths.token, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The record of the project's daemon, only if that daemon is alive. */
export function readLiveDaemon(paths: StatePaths): DaemonRecord | undefined {
  const rec = readJsonFile<DaemonRecord>(paths.daemon);
  if (!rec || !isSameProcess(rec.pid, rec.startTime)) return undefined;
  return rec;
}

/** Records the daemon (atomically; not fsync'd: it describes a live process). */
export function writeDaemonRecord(paths: StatePaths, rec: DaemonRecord): void {
  writeFileAtomic(paths.daemon, JSON.stringify(rec, null, 2) + '\n', 0o644, { durable: false });
}

/** Records the live instance processes (atomically; not fsync'd: rewritten at every spawn, and moot after a power loss). */
export function writeInstanceRecords(paths: StatePaths, records: InstanceRecord[]): void {
  writeFileAtomic(paths.instances, JSON.stringify(records) + '\n', 0o644, { durable: false });
}

/** Reads recorded instance processes. */
export function readInstanceRecords(paths: StatePaths): InstanceRecord[] {
  return readJsonFile<InstanceRecord[]>(paths.instances) ?? [];
}
