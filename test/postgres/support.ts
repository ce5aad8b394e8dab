// Test support for test/postgres: temp projects the server's user can enter, real servers that are always stopped.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverCommand } from '../../src/postgres/index.js';
import type { PgEngine, PgUser } from '../../src/postgres/index.js';

/** A temp project dir (0755: the server's user must pass through) with its `.machineroom` state dir. */
export interface TempProject {
  dir: string;
  stateDir: string;
  remove(): void;
}

/** Makes a temp project; remove() deletes it (call from `after`). */
export function makeProject(prefix = 'mr-pg-'): TempProject {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  const stateDir = join(dir, '.machineroom');
  mkdirSync(stateDir, { mode: 0o755 });
  return { dir, stateDir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running server started by a test. */
export interface TestServer {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the server printed so far (for assertion messages). */
  output(): string;
  /** SIGINT (fast shutdown), then SIGQUIT and SIGKILL after grace periods; resolves with the exit code. */
  stop(): Promise<number | null>;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** Starts and remembers servers; stopAll() (from `after`) stops every one still running, even after a failed test. */
export function createServerSet(): { start(engine: PgEngine, opts: { dataDir: string; port: number; user?: PgUser | undefined; host?: string }): TestServer; stopAll(): Promise<void> } {
  const running = new Set<TestServer>();
  return {
    start(engine, opts) {
      const cmd = serverCommand(engine, { dataDir: opts.dataDir, host: opts.host ?? '127.0.0.1', port: opts.port, name: 'test' });
      const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), {
        env: { ...process.env, ...cmd.env },
        cwd: cmd.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
      });
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
      child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
      const server: TestServer = {
        child,
        pid: child.pid ?? 0,
        output: () => out,
        async stop() {
          for (const [signal, grace] of [['SIGINT', 15_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
            if (await exited(child, 0)) break;
            child.kill(signal);
            if (await exited(child, grace)) break;
          }
          running.delete(server);
          return child.exitCode;
        },
      };
      running.add(server);
      return server;
    },
    async stopAll() {
      await Promise.all([...running].map((s) => s.stop()));
    },
  };
}

/** Seconds with one decimal, for timing diagnostics. */
export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
