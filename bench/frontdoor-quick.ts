// A short throughput-only comparison for working on the front door's hot path (not the acceptance benchmark, which is
// frontdoor.ts): 2 node:http backends, the real daemon (`up -d`) and nginx as in frontdoor.ts, then wrk runs that
// alternate between the targets, back to back, so each ratio compares runs made under the same machine load.
//   FRONTDOOR_QUICK_TARGETS  comma list of frontdoor, nginx, direct (default frontdoor,nginx)
//   FRONTDOOR_QUICK_CONNS    comma list (default 64,256)
//   FRONTDOOR_BENCH_SECONDS  per run (default 5); FRONTDOOR_BENCH_REPS (default 3); FRONTDOOR_BENCH_WORKERS as in frontdoor.ts
//   FRONTDOOR_QUICK_BASE     another built checkout (its root): target "base" is its daemon, for A/B comparisons of a change
//   FRONTDOOR_QUICK_BASE_WORKERS  front_door.workers for "base" (default: as FRONTDOOR_BENCH_WORKERS)
//   FRONTDOOR_QUICK_PROFILE  a preload script (CommonJS) given to the daemon and its workers with NODE_OPTIONS=--require
//                            (--cpu-prof is not allowed in NODE_OPTIONS; the script can start the inspector's profiler)
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllSync, sleep, startProc, waitFor } from './bus-procs.js';
import { HOST, daemonTree, probe, processTree, setRegistered, startOurs, stopOurs } from './frontdoor-ours.js';
import type { Ours } from './frontdoor-ours.js';
import { startNginx } from './frontdoor-peers.js';
import type { Peer } from './frontdoor-peers.js';
import { runWrk } from './frontdoor-wrk.js';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const REPS = Math.round(num('FRONTDOOR_BENCH_REPS', 3));
const SECONDS = Math.round(num('FRONTDOOR_BENCH_SECONDS', 5));
const TARGETS = (process.env.FRONTDOOR_QUICK_TARGETS ?? 'frontdoor,nginx').split(',').filter(Boolean);
const CONNS = (process.env.FRONTDOOR_QUICK_CONNS ?? '64,256').split(',').map(Number).filter((n) => n > 0);

const BACKEND_JS = `const http = require('http');
let port = '';
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-length': '2', 'x-backend': port }); res.end('ok'); });
s.keepAliveTimeout = 5000;
s.listen(0, '127.0.0.1', () => { port = String(s.address().port); console.log('PORT ' + port); });
process.on('SIGTERM', () => process.exit(0));
`;

/** CPU time (user + system, ms) of some processes and of the whole machine, from /proc. */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').slice(0).split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return ticks * 10;
}
function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (f.reduce((a, b) => a + b, 0) - f[3]! - f[4]!) * 10;
}

/** TCP counters that explain latency spikes of a second (listen queue overflows make clients resend their SYN). */
function tcpCounters(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i]!.split(/\s+/);
      const values = lines[i + 1]!.split(/\s+/);
      names.forEach((n, j) => {
        if (n === 'ListenOverflows' || n === 'TCPSynRetrans' || n === 'TCPTimeouts') out[n] = Number(values[j]);
      });
    }
  } catch {
    /* not Linux */
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'mr-bench-fdquick-')));
  let ours: Ours | undefined;
  let nginx: Peer | undefined;
  let stopBase: (() => Promise<unknown>) | undefined;
  const profileDir = process.env.FRONTDOOR_QUICK_PROFILE;
  try {
    writeFileSync(join(tmp, 'backend.cjs'), BACKEND_JS);
    const ports: number[] = [];
    const backendPids: number[] = [];
    for (let i = 0; i < 2; i++) {
      const proc = startProc(`backend${i + 1}`, process.execPath, [join(tmp, 'backend.cjs')]);
      backendPids.push(proc.pid);
      ports.push(await waitFor('backend', 10000, () => Number(/PORT (\d+)/.exec(proc.output())?.[1]) || undefined, proc));
    }
    const savedOptions = process.env.NODE_OPTIONS;
    if (profileDir) process.env.NODE_OPTIONS = `${savedOptions ?? ''} --require ${profileDir}`.trim();
    ours = await startOurs(tmp);
    if (profileDir) {
      if (savedOptions === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = savedOptions;
    }
    await setRegistered(ours, ports);
    let base: Ours | undefined;
    let baseMod: typeof import('./frontdoor-ours.js') | undefined;
    if (process.env.FRONTDOOR_QUICK_BASE) {
      baseMod = (await import(join(process.env.FRONTDOOR_QUICK_BASE, 'dist/bench/frontdoor-ours.js'))) as typeof import('./frontdoor-ours.js');
      const workers = process.env.FRONTDOOR_BENCH_WORKERS;
      if (process.env.FRONTDOOR_QUICK_BASE_WORKERS !== undefined) process.env.FRONTDOOR_BENCH_WORKERS = process.env.FRONTDOOR_QUICK_BASE_WORKERS;
      base = await baseMod.startOurs(join(tmp, 'base'));
      if (workers === undefined) delete process.env.FRONTDOOR_BENCH_WORKERS;
      else process.env.FRONTDOOR_BENCH_WORKERS = workers;
      await baseMod.setRegistered(base, ports);
      stopBase = () => baseMod!.stopOurs(base);
    }
    const agent = new Agent({ keepAlive: false });
    await waitFor('front door route', 20000, async () => ((await probe(agent, ours!.httpPort).catch(() => undefined))?.status === 200 ? true : undefined));
    const o = ours;
    const urls: Record<string, { url: string; host?: string; pids: () => number[] }> = {
      frontdoor: { url: `http://127.0.0.1:${ours.httpPort}/`, host: HOST, pids: () => daemonTree(o).pids },
      direct: { url: `http://127.0.0.1:${ports[0]}/`, pids: () => [] },
    };
    if (base) {
      const b = base;
      urls.base = { url: `http://127.0.0.1:${b.httpPort}/`, host: HOST, pids: () => daemonTree(b).pids };
      await waitFor('base front door route', 20000, async () => ((await probe(agent, b.httpPort).catch(() => undefined))?.status === 200 ? true : undefined));
    }
    if (TARGETS.includes('nginx')) {
      nginx = await startNginx(join(tmp, 'nginx'), 'nginx_ka_w2', ports);
      const n = nginx;
      urls.nginx = { url: `http://127.0.0.1:${nginx.port}/`, pids: () => processTree(n.proc.pid).pids };
      await sleep(300);
    }
    process.stderr.write(`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; workers ${process.env.FRONTDOOR_BENCH_WORKERS ?? 'auto'}\n`);
    for (const c of CONNS) for (const t of TARGETS) await runWrk({ url: urls[t]!.url, host: urls[t]!.host, connections: c, seconds: 2 });
    const res = new Map<string, { rps: number; p50: number; p99: number; proxyUs: number; backendUs: number; machineUs: number }[]>();
    for (let rep = 1; rep <= REPS; rep++) {
      for (const c of CONNS) {
        for (const t of rep % 2 ? TARGETS : [...TARGETS].reverse()) {
          const pids = urls[t]!.pids();
          const p0 = cpuMs(pids);
          const b0 = cpuMs(backendPids);
          const m0 = machineBusyMs();
          const t0 = tcpCounters();
          const w = await runWrk({ url: urls[t]!.url, host: urls[t]!.host, connections: c, seconds: SECONDS });
          const n = w.requests || 1;
          const t1 = tcpCounters();
          const tcp = Object.keys(t1).filter((k) => t1[k]! > (t0[k] ?? 0)).map((k) => `${k} +${t1[k]! - (t0[k] ?? 0)}`).join(' ');
          const cpu = { proxyUs: ((cpuMs(pids) - p0) * 1000) / n, backendUs: ((cpuMs(backendPids) - b0) * 1000) / n, machineUs: ((machineBusyMs() - m0) * 1000) / n };
          const key = `${t}@${c}`;
          res.set(key, [...(res.get(key) ?? []), { rps: w.rps, p50: w.p50Ms, p99: w.p99Ms, ...cpu }]);
          process.stderr.write(
            `rep ${rep} c=${c} ${t.padEnd(9)} ${w.rps.toFixed(0).padStart(6)} rps  p50 ${w.p50Ms.toFixed(2)}  p99 ${w.p99Ms.toFixed(2)}  CPU µs/req: proxy ${cpu.proxyUs.toFixed(1)} backends ${cpu.backendUs.toFixed(1)} machine ${cpu.machineUs.toFixed(1)}${tcp ? `  TCP: ${tcp}` : ''}${w.socketErrors + w.non2xx ? `  ERRORS ${w.socketErrors + w.non2xx} (${/Socket errors.*|Non-2xx.*/.exec(w.raw)?.[0] ?? ''})` : ''}\n`,
          );
          await sleep(300);
        }
      }
    }
    const lines = [`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`];
    for (const c of CONNS) {
      const ng = res.get(`nginx@${c}`);
      const bs = res.get(`base@${c}`);
      for (const t of TARGETS) {
        const r = res.get(`${t}@${c}`)!;
        const rps = median(r.map((x) => x.rps));
        const p99 = median(r.map((x) => x.p99));
        const ratio = ng ? `  rps/nginx ${(rps / median(ng.map((x) => x.rps))).toFixed(2)}  p99/nginx ${(p99 / median(ng.map((x) => x.p99))).toFixed(2)}` : '';
        const vsBase = bs ? `  rps/base ${(rps / median(bs.map((x) => x.rps))).toFixed(2)}` : '';
        const cpu = `${vsBase}  CPU µs/req proxy ${median(r.map((x) => x.proxyUs)).toFixed(1)} machine ${median(r.map((x) => x.machineUs)).toFixed(1)}`;
        lines.push(`c=${c} ${t.padEnd(9)} rps ${rps.toFixed(0).padStart(6)}  p50 ${median(r.map((x) => x.p50)).toFixed(2)}  p99 ${p99.toFixed(2)}${ratio}${cpu}`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    agent.destroy();
  } finally {
    await nginx?.stop();
    await stopBase?.();
    await stopOurs(ours);
    killAllSync();
    rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  killAllSync();
  process.stderr.write(`bench:frontdoor-quick failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
}
