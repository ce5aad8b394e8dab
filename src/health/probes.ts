// The check runners: one probe per kind, each resolving to a Consul-style status and output, never throwing.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { spawn } from 'node:child_process';
import type { CheckStatus } from '../bus/index.js';

/** One probe's outcome. */
export interface ProbeResult {
  status: CheckStatus;
  output: string;
}

const MAX_OUTPUT = 4096;

function clip(s: string): string {
  return s.length > MAX_OUTPUT ? s.slice(0, MAX_OUTPUT) + '…' : s;
}

/** Consul's HTTP check options: method, headers, body, and TLS verification for https URLs. */
export interface HttpProbeOptions {
  method?: string;
  headers?: Record<string, string[]>;
  body?: string;
  tlsSkipVerify?: boolean;
}

/** HTTP(S) request (GET by default): 2xx passing, 429 warning, anything else critical (Consul's rule). */
export function probeHttp(url: string, timeoutMs: number, opts: HttpProbeOptions = {}): Promise<ProbeResult> {
  const method = (opts.method ?? 'GET').toUpperCase();
  const headers: Record<string, string | string[]> = { 'User-Agent': 'Consul Health Check', Accept: 'text/plain, text/*, */*' };
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k] = v;
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const req = request(url, { method, agent: false, timeout: timeoutMs, headers, ...(opts.tlsSkipVerify ? { rejectUnauthorized: false } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_OUTPUT) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        const status: CheckStatus = code >= 200 && code < 300 ? 'passing' : code === 429 ? 'warning' : 'critical';
        const body = Buffer.concat(chunks).toString('utf8').trim();
        finish({ status, output: clip(`HTTP ${method} ${url}: ${code} ${res.statusMessage ?? ''}${body ? ` Output: ${body}` : ''}`.trim()) });
      });
      res.on('error', (err) => finish({ status: 'critical', output: `HTTP GET ${url}: ${err.message}` }));
    });
    req.on('timeout', () => {
      req.destroy(new Error(`timed out after ${timeoutMs}ms`));
    });
    req.on('error', (err) => finish({ status: 'critical', output: `HTTP ${method} ${url}: ${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.replace(/\s+/g, ' ') }));
    req.end(opts.body);
  });
}

/** TCP connect: passing when the connection opens. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ status: 'critical', output: `TCP connect ${host}:${port}: timed out after ${timeoutMs}ms` });
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ status: 'passing', output: `TCP connect ${host}:${port}: Success` });
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      resolve({ status: 'critical', output: `TCP connect ${host}:${port}: ${err.message}` });
    });
  });
}

/** A command: exit 0 passing, exit 1 warning, anything else critical (Consul's script check rule). */
export function probeCmd(argv: string[], opts: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    if (!file) return resolve({ status: 'critical', output: 'empty check command' });
    const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    const collect = (c: Buffer) => {
      if (out.length < MAX_OUTPUT) out += c.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ status: 'critical', output: `${argv.join(' ')}: ${err.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const text = clip(out.trim());
      if (timedOut) return resolve({ status: 'critical', output: `timed out after ${opts.timeoutMs}ms${text ? `: ${text}` : ''}` });
      const status: CheckStatus = code === 0 ? 'passing' : code === 1 ? 'warning' : 'critical';
      resolve({ status, output: text || `exit ${code}` });
    });
  });
}
