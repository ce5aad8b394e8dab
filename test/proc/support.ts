// Test support for test/proc: spawn real processes, remember every one, kill them all afterwards, and poll to a deadline.
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { isSameProcess, processStartTime } from '../../src/proc/index.js';

/** Polls `probe` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves with the first stdout line of `child` (rejects if it exits first or the deadline passes). */
export function readFirstLine(child: ChildProcess, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(() => finish(new Error(`no output within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline >= 0) finish(undefined, buffered.slice(0, newline));
    };
    const onErr = (chunk: Buffer): void => {
      stderr += chunk.toString('utf8');
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`process exited (code ${code}, signal ${signal}) before printing a line; stderr: ${stderr}`));
    function finish(err: Error | undefined, line?: string): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line ?? '');
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onErr);
    child.once('exit', onExit);
  });
}

/** Resolves when `child` has exited (immediately if it already has). */
export function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Remembers every process a test starts, so `killAll` can stop them even when the test failed. */
export interface ProcessTracker {
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Also kill `pid` at cleanup (a grandchild), but only while it is still the process we saw now. */
  adopt(pid: number): void;
  killAll(): Promise<void>;
}

/** Creates a tracker; call killAll from `after`. */
export function createProcessTracker(): ProcessTracker {
  const children: { child: ChildProcess; group: boolean }[] = [];
  const adopted = new Map<number, number>();
  return {
    spawn(command, args, options = {}) {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
      children.push({ child, group: options.detached === true });
      return child;
    },
    adopt(pid) {
      const startTime = processStartTime(pid);
      if (startTime !== undefined) adopted.set(pid, startTime);
    },
    async killAll() {
      for (const [pid, startTime] of adopted) {
        if (isSameProcess(pid, startTime)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      }
      for (const { child, group } of children) {
        if (child.pid === undefined) continue;
        try {
          // A detached child leads its own process group: take the whole group (by its id) down with it,
          // even when the leader itself already exited.
          if (group) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* group already empty */
        }
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await Promise.all(children.map(({ child }) => waitForExit(child)));
    },
  };
}

/** Spawns `node -e script` through the tracker; `detached` puts it in its own session and process group. */
export function spawnNode(tracker: ProcessTracker, script: string, options: { env?: NodeJS.ProcessEnv; args?: string[]; detached?: boolean } = {}): ChildProcess {
  return tracker.spawn(process.execPath, ['-e', script, ...(options.args ?? [])], {
    env: options.env ?? process.env,
    detached: options.detached ?? false,
  });
}

/** A script that keeps node alive until killed. */
export const IDLE_SCRIPT = 'setInterval(() => {}, 1 << 30); console.log("ready");';
