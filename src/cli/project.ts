// Finds the project (its directory, config and state) for a CLI invocation, and connects to its daemon.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MachineroomError } from '../errors/index.js';
import type { ResolvedConfig } from '../config/index.js';
import { connectToDaemon } from '../client/index.js';
import type { MachineRoom } from '../client/index.js';
import { statePaths } from '../state/index.js';
import type { DaemonRecord, StatePaths } from '../state/index.js';
import type { VerbArgs } from './args.js';
import { flag, strs } from './args.js';

const NAMES = ['machineroom.yml', 'machineroom.yaml'];

/** The project directory: that of the first -f file, else the nearest directory with a config or a .machineroom/. */
export function findProjectDir(cwd: string, files: string[]): string {
  if (files.length > 0) return dirname(resolve(cwd, files[0]!));
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (NAMES.some((n) => existsSync(join(dir, n))) || existsSync(join(dir, '.machineroom', 'daemon.json'))) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new MachineroomError('ERR_CONFIG_NOT_FOUND', `no machineroom.yml in ${resolve(cwd)} or its parents; create one, or name it with -f FILE`);
}

/** Loads the config as the CLI was asked to. */
/** (The config domain, with its schema library, is imported on first use so that `ps` and friends start fast.) */
export async function loadProjectConfig(args: VerbArgs, cwd = process.cwd()): Promise<ResolvedConfig> {
  const { loadConfig } = await import('../config/index.js');
  const files = strs(args, 'file');
  const profiles = strs(args, 'profile');
  return loadConfig({ cwd, env: process.env, ...(files.length ? { files } : {}), ...(profiles.length ? { profiles } : {}) });
}

/** The state paths of the project this invocation is about. */
export function projectPaths(args: VerbArgs, cwd = process.cwd()): StatePaths {
  return statePaths(findProjectDir(cwd, strs(args, 'file')));
}

/** Connects to the running daemon, or fails with a message saying how to start one. */
export async function requireDaemon(args: VerbArgs): Promise<{ room: MachineRoom; record: DaemonRecord; paths: StatePaths }> {
  const paths = projectPaths(args);
  const found = await connectToDaemon(paths, { anyVersion: flag(args, 'any-version') });
  if (!found) throw new MachineroomError('ERR_DAEMON_NOT_RUNNING', `the project in ${dirname(paths.dir)} is not up; start it with \`machineroom up\` (or \`up -d\` to run it in the background)`);
  return { ...found, paths };
}

/** The daemon's API port: MACHINEROOM_API_PORT (0: any free port) over the config's api_port. */
export function apiPortOf(config: ResolvedConfig): number {
  const env = process.env.MACHINEROOM_API_PORT;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new MachineroomError('ERR_USAGE', `MACHINEROOM_API_PORT: expected a port 0-65535, got "${env}"`);
    return n;
  }
  return config.apiPort;
}
