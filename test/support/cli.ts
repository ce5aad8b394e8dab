// Test support: temporary projects, running the real CLI as a subprocess, polling to deadlines, and cleanup.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, realpathSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request as httpRequest } from 'node:http';
import { listProcessStats, readCmdline } from '../../src/proc/index.js';
import { removeRelocatedHomes } from '../../src/daemon/postgres-home.js';

/** The repository root (tests run from dist/test/...). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The CLI entry. */
export const BIN = join(ROOT, 'bin', 'machineroom.js');

/** A small HTTP server app that listens on $HOST:$PORT and says who it is. */
export const SERVER_JS = `
const http = require('http');
const s = http.createServer((req, res) => {
  if (req.url === '/health' && process.env.FAIL_HEALTH) { res.statusCode = 500; return res.end('database unreachable'); }
  res.end(JSON.stringify({ id: process.env.MR_INSTANCE_ID, host: process.env.HOST, port: process.env.PORT }));
});
s.listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening on ' + process.env.HOST + ':' + process.env.PORT));
process.on('SIGTERM', () => { console.log('bye'); s.close(() => process.exit(0)); setTimeout(() => process.exit(0), 500).unref(); });
`;

/** A temporary project directory with the given files. */
export function makeProject(files: Record<string, string>, prefix = 'mr-test-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** The environment tests run the CLI with: any free API port, no colours. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, MACHINEROOM_API_PORT: '0', MACHINEROOM_DNS_PORT: '0', MACHINEROOM_HTTP_PORT: '0', MACHINEROOM_HTTPS_PORT: '0', NO_COLOR: '1', ...extra };
}

/** Result of a finished CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (with a generous timeout). */
export function runCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: opts.env ?? testEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the CLI and parses its JSON output. */
export async function cliJson<T>(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<T> {
  const r = await runCli(args, { cwd, ...(env ? { env } : {}) });
  if (r.code !== 0) throw new Error(`machineroom ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Starts a long-running CLI process (attached `up`, `logs -f`), capturing its output. */
export function startCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: opts.env ?? testEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out };
}

/** Polls `fn` until it returns a truthy value or the deadline passes (then throws with the last value). */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** An independent scan of /proc (not using machineroom's own readers): pid → MR_INSTANCE_ID of live processes whose MR_PROJECT_DIR-less env carries MR_INSTANCE_ID and whose cwd is under `dir`. */
export function scanInstances(dir: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const env = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      const id = env.find((e) => e.startsWith('MR_INSTANCE_ID='));
      if (!id) continue;
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd === dir || cwd.startsWith(dir + '/')) found.set(Number(name), id.slice('MR_INSTANCE_ID='.length));
    } catch {
      /* gone mid-scan, or not ours to read */
    }
  }
  return found;
}

/** Stops a project for good after a test: `down`, then SIGKILL to anything of it still alive, then removes the dir. */
export async function cleanupProject(dir: string): Promise<void> {
  await runCli(['down'], { cwd: dir, timeoutMs: 60_000 });
  for (const pid of scanInstances(dir).keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  // Clusters kept outside the project (root, a project the server user cannot enter) go too.
  removeRelocatedHomes(join(dir, '.machineroom', 'data'));
  rmSync(dir, { recursive: true, force: true });
}

/** Whether a process exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs of a process's children whose command line contains `marker` (the front door's workers: 'worker-main.js'). */
export function childrenWith(parent: number, marker: string): number[] {
  return listProcessStats()
    .filter((s) => s.ppid === parent && (readCmdline(s.pid) ?? []).join(' ').includes(marker))
    .map((s) => s.pid)
    .sort((a, b) => a - b);
}

/** The status of one GET through the front door on a fresh connection (any of its processes may take it). */
export function frontDoorStatus(port: number, host: string, path = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}
