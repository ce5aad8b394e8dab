// Runs one engine binary to completion (initdb, postgres --version), optionally as the server's user, capturing its output.
import { spawn } from 'node:child_process';
import type { PgUser } from './types.js';

/** How a finished binary ended and what it printed. */
export interface BinaryResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `file args` with `env` merged over process.env; never rejects for a non-zero exit, only when it cannot start. */
export function runBinary(
  file: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; user?: PgUser; cwd?: string; timeoutMs?: number } = {},
): Promise<BinaryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.once('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last few non-empty lines of a tool's output, for error messages. */
export function tailLines(text: string, count = 6): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-count)
    .join('\n');
}
