// The HTTP side of the bus benchmark: single requests, a closed-loop load generator on node:http keep-alive Agents
// (one socket per simulated client), and percentiles. No dependency: the same client drives machineroom and etcd.
import { Agent, request } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { sleep } from './bus-procs.js';

/** One request to send. */
export interface RequestSpec {
  method: string;
  path: string;
  body?: Buffer;
  headers?: OutgoingHttpHeaders;
}

/** One whole response. */
export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends one request on AGENT and reads the whole response (bounded by timeoutMs). */
export function send(agent: Agent, port: number, spec: RequestSpec, timeoutMs = 30000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...spec.headers };
    if (spec.body) headers['content-length'] = spec.body.length;
    const req = request({ agent, host: '127.0.0.1', port, method: spec.method, path: spec.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${spec.method} ${spec.path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(spec.body);
  });
}

/** The cheapest request for the load loop: the status only, the body drained. */
function fire(agent: Agent, port: number, spec: RequestSpec): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, method: spec.method, path: spec.path, headers: spec.headers }, (res) => {
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
      res.resume();
    });
    req.setTimeout(10000, () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', reject);
    req.end(spec.body);
  });
}

/** Builds a request spec with a fixed body and its Content-Length. */
export function spec(method: string, path: string, body?: string, headers: OutgoingHttpHeaders = {}): RequestSpec {
  const buf = body === undefined ? undefined : Buffer.from(body);
  return { method, path, body: buf, headers: buf ? { ...headers, 'content-length': buf.length } : headers };
}

/** A closed-loop run: `concurrency` clients, each sending its next request when the last one is answered. */
export interface LoadOptions {
  port: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** The i-th request of the run (i counts across all clients). */
  next: (i: number) => RequestSpec;
}

/** What one run measured: only responses that completed inside the measured window count. */
export interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

/** q-quantile (0..1) of an ascending array, nearest rank; NaN when empty. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Runs the load: a warm-up (not recorded), then the measured window; every loop ends at the deadline by itself. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency, maxFreeSockets: o.concurrency });
  const tMeasure = performance.now() + o.warmupMs;
  const tEnd = tMeasure + o.durationMs;
  const maxRequests = 50_000_000; // a second bound besides time
  const latencies: number[] = [];
  let i = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const client = async (): Promise<void> => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= tEnd || i >= maxRequests) return;
      const s = o.next(i++);
      try {
        const status = await fire(agent, o.port, s);
        const t1 = performance.now();
        if (t1 < tMeasure || t1 > tEnd) continue;
        if (status >= 200 && status < 300) {
          ok++;
          latencies.push(t1 - t0);
        } else non2xx++;
      } catch {
        const t1 = performance.now();
        if (t1 >= tMeasure && t1 <= tEnd) errors++;
        await sleep(5); // a dead server must not turn the loop into a spin
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, client));
  } finally {
    agent.destroy();
  }
  latencies.sort((a, b) => a - b);
  const seconds = o.durationMs / 1000;
  return { ok, non2xx, errors, seconds, rps: ok / seconds, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}
