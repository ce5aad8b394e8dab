// machineroom's side of the front-door benchmark: the real daemon through the CLI (`up -d` on a project with no
// services, every port kernel-chosen, its machine-wide state in a temporary MACHINEROOM_HOME), the external backends
// registered as instances of `backend` through the Consul agent API, process-tree memory, and the delay from a bus
// change to the front door's routing change.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { send, spec } from './bus-http.js';
import { sleep } from './bus-procs.js';

const BIN = fileURLToPath(new URL('../../bin/machineroom.js', import.meta.url));
export const SERVICE = 'backend';
export const HOST = `${SERVICE}.localhost`;

/** The running daemon, as daemon.json describes it. */
export interface Ours {
  dir: string;
  yml: string;
  env: NodeJS.ProcessEnv;
  pid: number;
  apiPort: number;
  httpPort: number;
  /** Every pid seen in the daemon's tree (for the last-resort SIGKILL). */
  seenPids: Set<number>;
  /** Backend ports currently registered through the agent API. */
  registered: Set<number>;
}

/** The project file: no services (the backends are external, registered on the bus like any Consul client would). */
export const PROJECT_YML = `# bench:frontdoor — the front door with its defaults; the backends are registered through the agent API
name: fdbench
services: {}
`;

function cliAsync(o: { dir: string; env: NodeJS.ProcessEnv }, args: string[], timeoutMs = 60000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: o.dir, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** `machineroom up -d` in a fresh project dir under tmp; reads the ports back from .machineroom/daemon.json. */
export async function startOurs(tmp: string): Promise<Ours> {
  const dir = join(tmp, 'project');
  const home = join(tmp, 'machineroom-home');
  mkdirSync(dir, { recursive: true });
  mkdirSync(home, { recursive: true });
  const yml = join(dir, 'machineroom.yml');
  // FRONTDOOR_BENCH_WORKERS=N compares worker counts; unset, the front door runs with its default (auto).
  const workers = process.env.FRONTDOOR_BENCH_WORKERS;
  writeFileSync(yml, workers === undefined || workers === '' ? PROJECT_YML : `${PROJECT_YML}front_door: { workers: ${Number(workers)} }\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, MACHINEROOM_API_PORT: '0', MACHINEROOM_DNS_PORT: '0', MACHINEROOM_HTTP_PORT: '0', MACHINEROOM_HTTPS_PORT: '0', MACHINEROOM_HOME: home, NO_COLOR: '1' };
  const r = await cliAsync({ dir, env }, ['up', '-d', '-f', yml]);
  const file = join(dir, '.machineroom', 'daemon.json');
  if (r.code !== 0 || !existsSync(file)) throw new Error(`machineroom up -d failed (exit ${r.code}):\n${r.out}`);
  const d = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; apiPort: number; httpPort: number };
  if (!d.httpPort || !d.apiPort) throw new Error(`daemon.json has no httpPort/apiPort: ${JSON.stringify(d)}`);
  const ours: Ours = { dir, yml, env, pid: d.pid, apiPort: d.apiPort, httpPort: d.httpPort, seenPids: new Set([d.pid]), registered: new Set() };
  for (const p of daemonTree(ours).pids) ours.seenPids.add(p);
  return ours;
}

/** `machineroom down`, then SIGKILL for anything of the daemon's tree still alive after 10 s. */
export async function stopOurs(o: Ours | undefined): Promise<string> {
  if (!o) return '';
  for (const p of daemonTree(o).pids) o.seenPids.add(p);
  const r = await cliAsync(o, ['down', '-f', o.yml], 30000);
  const deadline = performance.now() + 10000;
  while ([...o.seenPids].some(alive) && performance.now() < deadline) await sleep(100);
  killLeftovers(o);
  return r.code === 0 ? '' : `machineroom down exited ${r.code}: ${r.out}`;
}

/** For the signal handler: the same, synchronously. */
export function stopOursSync(o: Ours | undefined): void {
  if (!o) return;
  try {
    for (const p of daemonTree(o).pids) o.seenPids.add(p);
  } catch {
    /* /proc unreadable: use what we saw */
  }
  spawnSync(process.execPath, [BIN, 'down', '-f', o.yml], { cwd: o.dir, env: o.env, stdio: 'ignore', timeout: 20000 });
  killLeftovers(o);
}

function killLeftovers(o: Ours): void {
  for (const p of o.seenPids) {
    if (!alive(p)) continue;
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie is as good as gone
  } catch {
    return false;
  }
}

/** ppid of every process, from /proc. */
function parents(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(e));
      kids.set(ppid, list);
    } catch {
      /* exited meanwhile */
    }
  }
  return kids;
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** A process and its descendants (minus `exclude` and their subtrees), with their summed RSS. */
export function processTree(root: number, exclude: Set<number> = new Set()): { pids: number[]; rssKb: number } {
  const kids = parents();
  const pids: number[] = [];
  const walk = (p: number): void => {
    if (exclude.has(p)) return;
    pids.push(p);
    for (const k of kids.get(p) ?? []) walk(k);
  };
  if (alive(root)) walk(root);
  return { pids, rssKb: pids.reduce((s, p) => s + rssKb(p), 0) };
}

/** Pids of service instances, from .machineroom/instances.json (any "pid" field): not part of the daemon's memory. */
function instancePids(o: Ours): Set<number> {
  const out = new Set<number>();
  try {
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (/^pid$/i.test(k) && typeof x === 'number') out.add(x);
          else walk(x);
        }
      }
    };
    walk(JSON.parse(readFileSync(join(o.dir, '.machineroom', 'instances.json'), 'utf8')));
  } catch {
    /* none */
  }
  return out;
}

/** The daemon and its children that are not service instances (watchdog, front-door workers, ...). */
export function daemonTree(o: Ours): { pids: number[]; rssKb: number } {
  return processTree(o.pid, instancePids(o));
}

const api = new Agent({ keepAlive: true, maxSockets: 2 });

/** Registers (or deregisters) one backend port as an instance of `backend` through the Consul agent API. */
export async function register(o: Ours, port: number): Promise<void> {
  const body = JSON.stringify({ ID: `${SERVICE}-${port}`, Name: SERVICE, Address: '127.0.0.1', Port: port });
  const r = await send(api, o.apiPort, spec('PUT', '/v1/agent/service/register', body, { 'content-type': 'application/json' }), 10000);
  if (r.status !== 200) throw new Error(`register ${SERVICE}-${port}: ${r.status} ${r.body}`);
  o.registered.add(port);
}

export async function deregister(o: Ours, port: number): Promise<void> {
  const r = await send(api, o.apiPort, spec('PUT', `/v1/agent/service/deregister/${SERVICE}-${port}`), 10000);
  if (r.status !== 200) throw new Error(`deregister ${SERVICE}-${port}: ${r.status} ${r.body}`);
  o.registered.delete(port);
}

/** Makes exactly `ports` registered: new ones first, then the others deregistered (live, no reload). */
export async function setRegistered(o: Ours, ports: number[]): Promise<void> {
  for (const p of ports) if (!o.registered.has(p)) await register(o, p);
  for (const p of [...o.registered]) if (!ports.includes(p)) await deregister(o, p);
}

/** The front door's traffic counters (GET /v1/machineroom/traffic), or the error text. */
export async function traffic(o: Ours): Promise<unknown> {
  try {
    const r = await send(api, o.apiPort, spec('GET', '/v1/machineroom/traffic'), 5000);
    return r.status === 200 ? (JSON.parse(r.body) as unknown) : { status: r.status, body: r.body.slice(0, 500) };
  } catch (e) {
    return { error: String(e) };
  }
}

export function closeApi(): void {
  api.destroy();
}

/** One GET through the front door: status and which backend answered (x-backend). */
export function probe(agent: Agent, port: number, path = '/', host = HOST): Promise<{ status: number; backend: string; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: String(res.headers['x-backend'] ?? ''), headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error('no answer in 5 s')));
    req.on('error', reject);
    req.end();
  });
}

/** Samples of the bus → routing delay, in ms. */
export interface DelaySamples {
  /** Register acknowledged → first response from the new instance (from the register being sent in fromSend). */
  addFromAck: number[];
  addFromSend: number[];
  /** Deregister acknowledged → last response from it (negative: its last response came before the acknowledgement). */
  removeFromAck: number[];
  removeFromSend: number[];
  /** Samples where the new instance never answered within 5 s. */
  missed: number;
  /** Responses other than 200, and request errors, during the whole phase. */
  non200: number;
  errors: number;
  requests: number;
}

/**
 * `loops` clients send requests back to back (one keep-alive socket each) to the front door while `newPort` is
 * registered and deregistered `samples` times next to the base set; each response's arrival time and x-backend is
 * watched. After a deregistration, watching goes on until 500 ms have passed with no response from the instance.
 */
export async function measureDelay(o: Ours, newPort: number, samples: number, loops = 4): Promise<DelaySamples> {
  const agent = new Agent({ keepAlive: true, maxSockets: loops, maxFreeSockets: loops });
  const want = String(newPort);
  const out: DelaySamples = { addFromAck: [], addFromSend: [], removeFromAck: [], removeFromSend: [], missed: 0, non200: 0, errors: 0, requests: 0 };
  let lastFromNew = -Infinity;
  let firstWaiter: ((t: number) => void) | undefined;
  let running = true;
  const loop = async (): Promise<void> => {
    while (running) {
      try {
        const r = await probe(agent, o.httpPort);
        const t = performance.now();
        out.requests++;
        if (r.status !== 200) out.non200++;
        if (r.backend === want) {
          lastFromNew = t;
          if (firstWaiter) {
            const w = firstWaiter;
            firstWaiter = undefined;
            w(t);
          }
        }
      } catch {
        out.errors++;
        await sleep(5);
      }
    }
  };
  const clients = Array.from({ length: loops }, loop);
  try {
    await sleep(300);
    for (let i = 0; i < samples; i++) {
      const first = new Promise<number | undefined>((resolve) => {
        firstWaiter = resolve;
        setTimeout(() => resolve(undefined), 5000);
      });
      const s0 = performance.now();
      await register(o, newPort);
      const a0 = performance.now();
      const t = await first;
      firstWaiter = undefined;
      if (t === undefined) out.missed++;
      else {
        out.addFromAck.push(t - a0);
        out.addFromSend.push(t - s0);
      }
      await sleep(200);
      const s1 = performance.now();
      await deregister(o, newPort);
      const a1 = performance.now();
      while (performance.now() - Math.max(a1, lastFromNew) < 500 && performance.now() - a1 < 10000) await sleep(20);
      out.removeFromAck.push(lastFromNew - a1);
      out.removeFromSend.push(lastFromNew - s1);
      await sleep(100);
    }
  } finally {
    running = false;
    await Promise.all(clients);
    agent.destroy();
  }
  return out;
}
