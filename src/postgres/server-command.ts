// The foreground server command the supervisor runs. Stopping it: SIGINT to the postmaster (fast shutdown: sessions
// end, a checkpoint is written, exit 0), then SIGQUIT and SIGKILL after a grace. Every child of the postmaster
// (checkpointer, walwriter, backends) calls setsid(), so signalling the postmaster's process group does not reach
// them: signal the postmaster pid. After a SIGKILL of the postmaster its children exit by themselves and the next
// start runs crash recovery.
import { join } from 'node:path';
import type { PgEngine } from './types.js';

/** Options for serverCommand; `settings` become `-c name=value`, `name` the cluster_name shown in ps. */
export interface ServerCommandOptions {
  dataDir: string;
  host: string;
  port: number;
  settings?: Record<string, string>;
  name?: string;
}

/** `postgres -D dataDir -k '' -h host -p port -c ...` with an absolute argv[0]; env holds only the engine's additions. */
export function serverCommand(engine: PgEngine, opts: ServerCommandOptions): { argv: string[]; env: Record<string, string>; cwd: string } {
  const argv = [join(engine.binDir, 'postgres'), '-D', opts.dataDir, '-k', '', '-h', opts.host, '-p', String(opts.port)];
  if (opts.name) argv.push('-c', `cluster_name=machineroom-${opts.name}`);
  for (const [key, value] of Object.entries(opts.settings ?? {})) argv.push('-c', `${key}=${value}`);
  // cwd: a directory the server's user can always enter.
  return { argv, env: { ...engine.env }, cwd: opts.dataDir };
}
