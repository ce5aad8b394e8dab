// The machine-wide registry: which machineroom daemons run, the ports they hold and the machine addresses they lease.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { withFileLock } from './file-lock.js';
import { writeFileAtomic, readJsonFile } from './atomic-write.js';
import { isSameProcess } from '../proc/index.js';

/** A running project as the registry knows it. */
export interface RegisteredProject {
  pid: number;
  startTime: number;
  dir: string;
  name: string;
  /** Ports the daemon listens on, by role (api, later dns, http, https). */
  ports: Record<string, number>;
}

/** One leased machine address (loopback mode: "127.a.b.c"; port mode: "127.0.0.1:port"). */
export interface Lease {
  projectId: string;
  machine: string;
}

/** The registry file's shape. */
export interface RegistryData {
  projects: Record<string, RegisteredProject>;
  leases: Record<string, Lease>;
}

/** Where the machine-wide state lives: $MACHINEROOM_HOME, else $XDG_STATE_HOME/machineroom, else ~/.local/state/machineroom. */
export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MACHINEROOM_HOME) return env.MACHINEROOM_HOME;
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'machineroom');
}

function prune(data: RegistryData): void {
  for (const [id, p] of Object.entries(data.projects)) {
    if (!isSameProcess(p.pid, p.startTime)) delete data.projects[id];
  }
  for (const [key, lease] of Object.entries(data.leases)) {
    if (!data.projects[lease.projectId]) delete data.leases[key];
  }
}

/** Reads and changes the registry under its lock; dead projects and their leases are dropped first. */
export async function withRegistry<T>(fn: (data: RegistryData) => T, dir = registryDir()): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'registry.json');
  return withFileLock(join(dir, 'registry.lock'), () => {
    const data = readJsonFile<RegistryData>(file) ?? { projects: {}, leases: {} };
    data.projects ??= {};
    data.leases ??= {};
    const before = JSON.stringify(data);
    prune(data);
    const result = fn(data);
    const after = JSON.stringify(data);
    // Not fsync'd: every entry names a live daemon (pid + start time), and stale ones are pruned on the next read.
    if (after !== before) writeFileAtomic(file, after + '\n', 0o644, { durable: false });
    return result;
  });
}

/** Which live project holds a port, if any. */
export function projectHoldingPort(data: RegistryData, port: number): [string, RegisteredProject] | undefined {
  return Object.entries(data.projects).find(([, p]) => Object.values(p.ports).includes(port));
}
