// Benchmark (not a test): the front door against nginx and HAProxy, as run in shared/bench-peers.md §1–2, in one run
// on this machine, to the same 2 node:http backends. Issue 4, acceptance 7.
//   1. throughput: wrk -t2 -c{64,256} --latency to backend 1 directly (the ceiling), the front door, nginx, HAProxy;
//   2. churn: 20 s of wrk -c64 while the backend set changes between 1 and 4 every 2 s (nginx -s reload, HAProxy
//      master-worker reload, ours live through the Consul agent API), plus a control run of ours without changes;
//   3. bus delay: register / deregister an instance and time the first / last response from it through the front door.
// It prints a summary (progress on stderr) and writes bench/results/frontdoor-<timestamp>.json; it asserts nothing.
// Every process it starts is stopped at the end, by pid (the daemon by `machineroom down`), even on error or Ctrl-C.
import { Agent } from 'node:http';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { quantile } from './bus-http.js';
import { hasCommand, killAllSync, sleep, startProc, waitFor } from './bus-procs.js';
import type { BenchProc } from './bus-procs.js';
import { runWrk, writeCountLua } from './frontdoor-wrk.js';
import type { WrkResult } from './frontdoor-wrk.js';
import { startHaproxy, startNginx } from './frontdoor-peers.js';
import type { Peer } from './frontdoor-peers.js';
import {
  HOST,
  closeApi,
  daemonTree,
  measureDelay,
  probe,
  processTree,
  setRegistered,
  startOurs,
  stopOurs,
  stopOursSync,
  traffic,
} from './frontdoor-ours.js';
import type { DelaySamples, Ours } from './frontdoor-ours.js';
import { busyShare, markdown, table } from './report.js';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const REPS = Math.round(num('FRONTDOOR_BENCH_REPS', 2));
const SECONDS = Math.round(num('FRONTDOOR_BENCH_SECONDS', 5));
const WARMUP_S = 2;
const CONNS = [64, 256];
const CHURN_SECONDS = 20;
const CHURN_STEPS = [1, 2, 3, 4, 3, 2, 1, 4, 1];
const DELAY_SAMPLES = Math.round(num('FRONTDOOR_BENCH_DELAY_SAMPLES', 20));
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

/** The front door's defaults this benchmark runs with (the project file sets no front_door key). */
const FEATURES = [
  'per-service/instance traffic counters: on (default)',
  'access log: off (default)',
  'balancer: least-conn (default)',
  'X-Request-Id and X-Forwarded-For/-Host/-Proto added to each request: on (always)',
  'passive health (max_fails 3 / fail_timeout 10s): on (default)',
  'upstream keep-alive: on',
];

function log(line: string): void {
  process.stderr.write(`bench:frontdoor ${line}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// Backends: node:http, 200 "ok", Content-Length 2, keep-alive 5 s, x-backend: <port>; /__count and /__headers for
// the benchmark's own bookkeeping (never hit by wrk).

const BACKEND_JS = `const http = require('http');
let count = 0;
let port = '';
const s = http.createServer((req, res) => {
  if (req.url === '/__count') { res.writeHead(200, { 'content-length': String(String(count).length) }); return res.end(String(count)); }
  if (req.url === '/__headers') { const b = JSON.stringify(req.headers); res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) }); return res.end(b); }
  count++;
  res.writeHead(200, { 'content-length': '2', 'x-backend': port });
  res.end('ok');
});
s.keepAliveTimeout = 5000;
s.listen(0, '127.0.0.1', () => { port = String(s.address().port); console.log('PORT ' + port); });
process.on('SIGTERM', () => process.exit(0));
`;

interface Backend {
  port: number;
  proc: BenchProc;
}

async function startBackends(dir: string, n: number): Promise<Backend[]> {
  const file = join(dir, 'backend.cjs');
  writeFileSync(file, BACKEND_JS);
  const out: Backend[] = [];
  for (let i = 0; i < n; i++) {
    const proc = startProc(`backend${i + 1}`, process.execPath, [file]);
    const port = await waitFor(`backend ${i + 1} to listen`, 10000, () => {
      const m = /PORT (\d+)/.exec(proc.output());
      return m ? Number(m[1]) : undefined;
    }, proc);
    out.push({ port, proc });
  }
  return out;
}

const plain = new Agent({ keepAlive: false });

async function backendCounts(backends: Backend[]): Promise<number[]> {
  return Promise.all(backends.map(async (b) => Number((await probe(plain, b.port, '/__count', '127.0.0.1')).body)));
}

// ---------------------------------------------------------------------------------------------------------------
// Targets

interface Target {
  name: 'direct' | 'frontdoor' | 'nginx' | 'haproxy';
  url: string;
  host?: string;
  /** Root of the process tree whose memory is sampled during its runs. */
  rootPid?: () => number | undefined;
}

/** Polls a target until it answers 200 from every one of `expect` backends (or at least once when expect is empty). */
async function ready(t: Target, port: number, expect: number[]): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const seen = new Set<string>();
  try {
    await waitFor(`${t.name} to route to ${expect.join(', ') || 'a backend'}`, 20000, async () => {
      try {
        const r = await probe(agent, port, '/', t.host ?? '127.0.0.1');
        if (r.status === 200) seen.add(r.backend);
      } catch {
        /* not yet */
      }
      return expect.every((p) => seen.has(String(p))) && seen.size > 0 ? true : undefined;
    });
  } finally {
    agent.destroy();
  }
}

const portOf = (url: string): number => Number(new URL(url).port);

/** Samples a process tree's RSS every 250 ms while fn runs; returns fn's result and the peak (kB). */
async function withRss<T>(root: number | undefined, fn: () => Promise<T>): Promise<{ value: T; peakKb: number; procs: number }> {
  let peakKb = 0;
  let procs = 0;
  const sample = (): void => {
    if (root === undefined) return;
    const t = processTree(root);
    if (t.rssKb > peakKb) {
      peakKb = t.rssKb;
      procs = t.pids.length;
    }
  };
  const timer = setInterval(sample, 250);
  try {
    const value = await fn();
    sample();
    return { value, peakKb, procs };
  } finally {
    clearInterval(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Figures

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const ratio = (a: number, b: number): number => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED');

interface ThroughputRun {
  target: string;
  conns: number;
  rep: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
  /** Share of the run's requests each backend (by port) counted. */
  balance: Record<string, number>;
  peakRssKb: number;
  procs: number;
  raw: string;
}

interface ThroughputRow {
  target: string;
  conns: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  rpsVsNginx: number;
  p99VsNginx: number;
  rpsVsDirect: number;
  errors: number;
  balance: string;
  peakRssMiB: number;
}

interface ChurnRun {
  target: string;
  mode: 'churn' | 'control';
  rps: number;
  p99Ms: number;
  requests: number;
  socketErrors: number;
  socket: WrkResult['socket'];
  non2xx: number;
  luaBad: number;
  luaResponses: number;
  /** The first (up to 20 per wrk thread) statuses >= 300 seen. */
  badStatuses: number[];
  failed: number;
  /** Per change: backend count and how long applying it took (reload command / API calls), ms. */
  changes: { n: number; atMs: number; tookMs: number; error?: string }[];
  raw: string;
}

function stats(xs: number[]): { n: number; p50: number; p99: number; max: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s.length ? s[s.length - 1]! : NaN, min: s.length ? s[0]! : NaN };
}

function version(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return re.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!hasCommand('wrk')) {
    process.stderr.write('bench:frontdoor needs wrk, which is not installed: apt-get install -y wrk nginx-light haproxy\n');
    process.exitCode = 1;
    return;
  }
  const haveNginx = hasCommand('nginx');
  const haveHaproxy = hasCommand('haproxy');
  if (!haveNginx) log('nginx is not installed (apt-get install -y nginx-light): its rows are n/a, and so are the ratios to nginx');
  if (!haveHaproxy) log('haproxy is not installed (apt-get install -y haproxy): its rows are n/a');
  const versions = {
    node: process.version,
    wrk: version('wrk', ['-v'], /wrk (\S+)/),
    nginx: haveNginx ? version('nginx', ['-v'], /nginx\/(\S+)/) : 'missing',
    haproxy: haveHaproxy ? version('haproxy', ['-v'], /HAProxy version (\S+)/) : 'missing',
  };
  if (haveHaproxy && !versions.haproxy.startsWith('2.6')) log(`haproxy is ${versions.haproxy}, not 2.6 as in bench-peers.md: figures may differ`);

  const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'mr-bench-frontdoor-')));
  let ours: Ours | undefined;
  const peers: Peer[] = [];
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping every process this benchmark started`);
    killAllSync();
    stopOursSync(ours);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAllSync);

  const started = new Date();
  const load0 = loadavg();
  const busy0 = await busyShare(1500);
  const notes: string[] = [];
  const runs: ThroughputRun[] = [];
  const churn: ChurnRun[] = [];
  let delay: DelaySamples | undefined;
  let rss: Record<string, unknown> = {};
  let counters: unknown;
  let forwardedHeaders: Record<string, unknown> = {};
  let responseHeaders: Record<string, unknown> = {};
  try {
    log(`temporary prefix ${tmp}`);
    const backends = await startBackends(tmp, 4);
    const ports = backends.map((b) => b.port);
    log(`backends on 127.0.0.1:${ports.join(', ')}`);
    const two = ports.slice(0, 2);

    log('starting machineroom (up -d) …');
    ours = await startOurs(tmp);
    const o = ours;
    log(`machineroom daemon pid ${o.pid}: front door 127.0.0.1:${o.httpPort}, API 127.0.0.1:${o.apiPort}`);
    await setRegistered(o, two);
    const targets: Target[] = [
      { name: 'direct', url: `http://127.0.0.1:${ports[0]}/` },
      { name: 'frontdoor', url: `http://127.0.0.1:${o.httpPort}/`, host: HOST, rootPid: () => o.pid },
    ];
    await ready(targets[1]!, o.httpPort, two);
    rss.daemonIdleWithTwoBackends = daemonTree(o);
    {
      const h = await probe(plain, o.httpPort, '/__headers');
      forwardedHeaders = JSON.parse(h.body) as Record<string, unknown>;
      responseHeaders = (await probe(plain, o.httpPort, '/')).headers;
    }
    if (haveNginx) {
      const p = await startNginx(join(tmp, 'nginx'), 'nginx_ka_w2', two).catch((e: unknown) => {
        notes.push(`nginx did not start: ${String(e)}`);
        log(`nginx did not start: ${String(e)}`);
        return undefined;
      });
      if (p) {
        peers.push(p);
        targets.push({ name: 'nginx', url: `http://127.0.0.1:${p.port}/`, rootPid: () => p.proc.pid });
      }
    }
    if (haveHaproxy) {
      const p = await startHaproxy(join(tmp, 'haproxy'), 'haproxy_nt2', two).catch((e: unknown) => {
        notes.push(`haproxy did not start: ${String(e)}`);
        log(`haproxy did not start: ${String(e)}`);
        return undefined;
      });
      if (p) {
        peers.push(p);
        targets.push({ name: 'haproxy', url: `http://127.0.0.1:${p.port}/`, rootPid: () => p.proc.pid });
      }
    }
    for (const t of targets) await ready(t, portOf(t.url), t.name === 'direct' ? [] : two);

    // 1. Throughput.
    for (let rep = 1; rep <= REPS; rep++) {
      for (const c of CONNS) {
        for (const t of targets) {
          if (rep === 1) {
            log(`throughput: warm-up ${t.name} c=${c} (${WARMUP_S}s)`);
            await runWrk({ url: t.url, connections: c, seconds: WARMUP_S, host: t.host });
            await sleep(500);
          }
          log(`throughput: rep ${rep}/${REPS}, c=${c}, ${t.name} (${SECONDS}s)`);
          const before = await backendCounts(backends);
          const { value: w, peakKb, procs } = await withRss(t.rootPid?.(), () => runWrk({ url: t.url, connections: c, seconds: SECONDS, host: t.host }));
          const after = await backendCounts(backends);
          const delta = after.map((a, i) => a - before[i]!);
          const total = delta.reduce((x, y) => x + y, 0);
          const balance: Record<string, number> = {};
          delta.forEach((d, i) => {
            if (d > 0) balance[String(ports[i])] = d / total;
          });
          runs.push({ target: t.name, conns: c, rep, rps: w.rps, p50Ms: w.p50Ms, p99Ms: w.p99Ms, non2xx: w.non2xx, socketErrors: w.socketErrors, balance, peakRssKb: peakKb, procs, raw: w.raw });
          log(`  ${fmt(w.rps, 0)} req/s, p50 ${fmt(w.p50Ms, 2)} ms, p99 ${fmt(w.p99Ms, 2)} ms, non-2xx ${w.non2xx}, socket errors ${w.socketErrors}`);
          await sleep(500);
        }
      }
    }
    rss.daemonAfterThroughput = daemonTree(o);
    for (const p of peers) await p.stop();
    peers.length = 0;

    // 2. Churn: each proxy starts (or is set) with 2 backends; 9 changes at t = 2…18 s.
    const lua = writeCountLua(tmp);
    const churnTargets: { name: string; mode: 'churn' | 'control'; start: () => Promise<{ url: string; host?: string; set: (ports: number[]) => Promise<void>; stop: () => Promise<void> }> }[] = [
      {
        name: 'frontdoor',
        mode: 'control',
        start: async () => {
          await setRegistered(o, two);
          return { url: `http://127.0.0.1:${o.httpPort}/`, host: HOST, set: (p) => setRegistered(o, p), stop: async () => {} };
        },
      },
      {
        name: 'frontdoor',
        mode: 'churn',
        start: async () => {
          await setRegistered(o, two);
          return { url: `http://127.0.0.1:${o.httpPort}/`, host: HOST, set: (p) => setRegistered(o, p), stop: async () => {} };
        },
      },
    ];
    const peerChurn = (name: 'nginx' | 'haproxy', startPeer: () => Promise<Peer>) => ({
      name,
      mode: 'churn' as const,
      start: async () => {
        const p = await startPeer();
        peers.push(p);
        await ready({ name, url: `http://127.0.0.1:${p.port}/` }, p.port, two);
        return { url: `http://127.0.0.1:${p.port}/`, set: (ports: number[]) => p.setBackends(ports), stop: () => p.stop() };
      },
    });
    if (haveNginx) churnTargets.push(peerChurn('nginx', () => startNginx(join(tmp, 'nginx'), 'nginx_churn', two)));
    if (haveHaproxy) churnTargets.push(peerChurn('haproxy', () => startHaproxy(join(tmp, 'haproxy'), 'haproxy_churn', two)));
    for (const ct of churnTargets) {
      log(`churn: ${ct.name} ${ct.mode} (${CHURN_SECONDS}s, backends ${ct.mode === 'churn' ? CHURN_STEPS.join(' ') : 'unchanged (2)'})`);
      const t = await ct.start();
      const changes: ChurnRun['changes'] = [];
      const t0 = performance.now();
      const wrk = runWrk({ url: t.url, connections: 64, seconds: CHURN_SECONDS, host: t.host, script: lua });
      if (ct.mode === 'churn') {
        for (let i = 0; i < CHURN_STEPS.length; i++) {
          const at = t0 + 2000 * (i + 1);
          await sleep(Math.max(0, at - performance.now()));
          const n = CHURN_STEPS[i]!;
          const s = performance.now();
          try {
            await t.set(ports.slice(0, n));
            changes.push({ n, atMs: s - t0, tookMs: performance.now() - s });
          } catch (e) {
            changes.push({ n, atMs: s - t0, tookMs: performance.now() - s, error: String(e) });
            log(`  change to ${n} failed: ${String(e)}`);
          }
        }
      }
      const w = await wrk;
      await t.stop();
      peers.length = 0;
      const luaBad = w.lua?.bad ?? 0;
      // wrk's "Non-2xx or 3xx" counts statuses >= 400, which the Lua counter (>= 300) counts as well: take the union.
      const failed = w.socketErrors + (w.lua ? Math.max(luaBad, w.non2xx) : w.non2xx);
      churn.push({
        target: ct.name,
        mode: ct.mode,
        rps: w.rps,
        p99Ms: w.p99Ms,
        requests: w.requests,
        socketErrors: w.socketErrors,
        socket: w.socket,
        non2xx: w.non2xx,
        luaBad,
        luaResponses: w.lua?.responses ?? NaN,
        badStatuses: w.lua?.statuses ?? [],
        failed,
        changes,
        raw: w.raw,
      });
      log(`  ${w.requests} requests, failed ${failed} (socket ${w.socketErrors}, non-2xx ${w.non2xx}, status>=300 ${luaBad}${luaBad ? `: ${w.lua?.statuses.join(' ')}` : ''})`);
      await sleep(500);
    }

    // 3. Bus → routing delay: the base set is backends 1–2; backend 3 comes and goes.
    await setRegistered(o, two);
    log(`bus delay: ${DELAY_SAMPLES} register/deregister samples of backend ${ports[2]}`);
    delay = await measureDelay(o, ports[2]!, DELAY_SAMPLES);
    counters = await traffic(o);
    rss.daemonEnd = daemonTree(o);
  } finally {
    for (const p of peers) await p.stop();
    const downError = await stopOurs(ours);
    if (downError) notes.push(downError);
    killAllSync();
    closeApi();
    plain.destroy();
    rmSync(tmp, { recursive: true, force: true });
  }
  const load1 = loadavg();

  // ----- report -----
  const rows: ThroughputRow[] = [];
  for (const c of CONNS) {
    const pick = (name: string): ThroughputRun[] => runs.filter((r) => r.target === name && r.conns === c);
    const agg = (name: string): { rps: number; p50: number; p99: number } => {
      const rs = pick(name);
      return { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50Ms)), p99: median(rs.map((r) => r.p99Ms)) };
    };
    const ng = agg('nginx');
    const direct = agg('direct');
    for (const name of ['direct', 'frontdoor', 'nginx', 'haproxy']) {
      const rs = pick(name);
      if (rs.length === 0) continue;
      const a = agg(name);
      const bal = new Map<string, number[]>();
      for (const r of rs) for (const [k, v] of Object.entries(r.balance)) bal.set(k, [...(bal.get(k) ?? []), v]);
      rows.push({
        target: name,
        conns: c,
        rps: a.rps,
        p50Ms: a.p50,
        p99Ms: a.p99,
        rpsVsNginx: ratio(a.rps, ng.rps),
        p99VsNginx: ratio(a.p99, ng.p99),
        rpsVsDirect: ratio(a.rps, direct.rps),
        errors: rs.reduce((s, r) => s + r.non2xx + r.socketErrors, 0),
        balance: name === 'direct' ? '-' : [...bal.values()].map((v) => `${Math.round(median(v) * 100)}%`).join('/'),
        peakRssMiB: median(rs.map((r) => r.peakRssKb / 1024)),
      });
    }
  }
  const fd = (c: number): ThroughputRow | undefined => rows.find((r) => r.target === 'frontdoor' && r.conns === c);
  const targetsMet = {
    rps64: Number.isFinite(fd(64)?.rpsVsNginx ?? NaN) ? fd(64)!.rpsVsNginx >= 0.4 : undefined,
    rps256: Number.isFinite(fd(256)?.rpsVsNginx ?? NaN) ? fd(256)!.rpsVsNginx >= 0.4 : undefined,
    p99at256: Number.isFinite(fd(256)?.p99VsNginx ?? NaN) ? fd(256)!.p99VsNginx <= 2 : undefined,
    zeroFailedUnderChurn: churn.some((r) => r.target === 'frontdoor' && r.mode === 'churn') ? churn.filter((r) => r.target === 'frontdoor').every((r) => r.failed === 0) : undefined,
  };
  const tHeaders = ['target', 'conns', 'rps (median)', 'p50 ms', 'p99 ms', 'rps/nginx', 'p99/nginx', 'rps/direct', 'errors', 'split b1/b2', 'peak RSS MiB'];
  const tRows = rows.map((r) => [
    r.target,
    String(r.conns),
    fmt(r.rps, 0),
    fmt(r.p50Ms, 2),
    fmt(r.p99Ms, 2),
    fmt(r.rpsVsNginx, 2),
    fmt(r.p99VsNginx, 2),
    fmt(r.rpsVsDirect, 2),
    String(r.errors),
    r.balance,
    r.target === 'direct' ? '-' : fmt(r.peakRssMiB, 1),
  ]);
  const cHeaders = ['target', 'mode', 'requests', 'rps', 'p99 ms', 'socket err', 'non-2xx', 'status>=300', 'FAILED', 'slowest change ms'];
  const cRows = churn.map((r) => [
    r.target,
    r.mode,
    String(r.requests),
    fmt(r.rps, 0),
    fmt(r.p99Ms, 2),
    `${r.socketErrors}${r.socketErrors ? ` (c${r.socket.connect}/r${r.socket.read}/w${r.socket.write}/t${r.socket.timeout})` : ''}`,
    String(r.non2xx),
    `${r.luaBad}${r.badStatuses.length ? ` (${[...new Set(r.badStatuses)].join(',')})` : ''}`,
    String(r.failed),
    r.changes.length ? fmt(Math.max(...r.changes.map((x) => x.tookMs)), 1) : '-',
  ]);
  const dHeaders = ['bus change → routing change', 'n', 'p50 ms', 'p99 ms', 'max ms', 'min ms'];
  const dRows: string[][] = [];
  if (delay) {
    const line = (what: string, xs: number[]): string[] => {
      const s = stats(xs);
      return [what, String(s.n), fmt(s.p50, 2), fmt(s.p99, 2), fmt(s.max, 2), fmt(s.min, 2)];
    };
    dRows.push(line('register ack → first response from it', delay.addFromAck));
    dRows.push(line('register sent → first response from it', delay.addFromSend));
    dRows.push(line('deregister ack → last response from it', delay.removeFromAck));
    dRows.push(line('deregister sent → last response from it', delay.removeFromSend));
  }
  const mib = (x: unknown): string => {
    const t = x as { rssKb?: number; pids?: number[] } | undefined;
    return t?.rssKb ? `${(t.rssKb / 1024).toFixed(1)} MiB (${t.pids?.length ?? '?'} processes)` : 'n/a';
  };
  const seenXff = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id'].filter((h) => h in forwardedHeaders);
  const context = [
    `${started.toISOString()} · node ${versions.node} · wrk ${versions.wrk} · nginx ${versions.nginx} · haproxy ${versions.haproxy} · ${cpus().length} CPUs`,
    `CPU busy with other work just before the start: ${fmt(busy0 * 100, 0)}%; load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at end ${load1.map((x) => x.toFixed(2)).join(' ')}. ` +
      'wrk, the proxies and the backends share these cores (and so does other work on a shared machine): read ratios, not absolute figures.',
    `throughput: wrk -t2 -c{64,256} -d${SECONDS}s --latency, ${WARMUP_S}s warm-up per target and connection count, median of ${REPS} repetitions; ` +
      'direct = backend 1 alone (the ceiling); the proxies spread over backends 1–2.',
    `front door features on (its defaults${process.env.FRONTDOOR_BENCH_WORKERS ? `, but workers: ${process.env.FRONTDOOR_BENCH_WORKERS}` : '; the project sets no front_door key'}): ${FEATURES.join('; ')}. ` +
      `Seen by the backend: ${seenXff.join(', ') || 'none of X-Forwarded-*/X-Request-Id'}; response has x-request-id: ${'x-request-id' in responseHeaders ? 'yes' : 'no'}.`,
    `churn: wrk -t2 -c64 -d${CHURN_SECONDS}s with a Lua status counter; every 2 s the set becomes the first N of 4 backends, N = ${CHURN_STEPS.join(' ')}; ` +
      'failed = socket errors + responses with status >= 300 (wrk\'s non-2xx counter, statuses >= 400, is a subset of the Lua count, so it is not added twice). nginx: rewrite + nginx -s reload; haproxy: rewrite + SIGUSR2 to the master (-W, expose-fd listeners); front door: agent API register/deregister (live).',
    `daemon process tree RSS (daemon + children that are not service instances): idle with 2 backends ${mib(rss.daemonIdleWithTwoBackends)}, ` +
      `after the throughput phase ${mib(rss.daemonAfterThroughput)}, at the end ${mib(rss.daemonEnd)}; the peak during load is in the table.`,
    ...(delay
      ? [`bus delay: ${delay.requests} requests by 4 back-to-back keep-alive clients, ${delay.non200} non-200, ${delay.errors} errors, ${delay.missed} registrations never routed within 5 s.`]
      : []),
    ...notes,
  ];
  const verdicts = [
    `front door rps ≥ 0.4× nginx at 64 connections: ${verdict(targetsMet.rps64)} (${fmt(fd(64)?.rpsVsNginx ?? NaN, 2)}×)`,
    `front door rps ≥ 0.4× nginx at 256 connections: ${verdict(targetsMet.rps256)} (${fmt(fd(256)?.rpsVsNginx ?? NaN, 2)}×)`,
    `front door p99 at 256 connections ≤ 2× nginx's: ${verdict(targetsMet.p99at256)} (${fmt(fd(256)?.p99VsNginx ?? NaN, 2)}×)`,
    `zero failed requests under churn (front door): ${verdict(targetsMet.zeroFailedUnderChurn)}`,
  ];
  const text = [
    '',
    'machineroom front door vs nginx and HAProxy',
    ...context,
    '',
    table(tHeaders, tRows),
    '',
    table(cHeaders, cRows),
    '',
    ...(dRows.length ? [table(dHeaders, dRows), ''] : []),
    'targets (issue 4, acceptance 7):',
    ...verdicts.map((v) => `  ${v}`),
    '',
  ].join('\n');
  process.stdout.write(text);
  process.stdout.write(
    ['', '### Front door vs nginx and HAProxy', '', ...context.map((c) => `- ${c}`), '', markdown(tHeaders, tRows), '', markdown(cHeaders, cRows), '', ...(dRows.length ? [markdown(dHeaders, dRows), ''] : []), ...verdicts.map((v) => `- ${v}`), ''].join('\n'),
  );

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `frontdoor-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const json = {
    benchmark: 'frontdoor',
    startedAt: started.toISOString(),
    versions,
    cpus: cpus().length,
    loadavg: { start: load0, end: load1 },
    busyShareBeforeStart: busy0,
    settings: { reps: REPS, seconds: SECONDS, warmupSeconds: WARMUP_S, connections: CONNS, churnSeconds: CHURN_SECONDS, churnSteps: CHURN_STEPS, delaySamples: DELAY_SAMPLES },
    frontDoorFeatures: FEATURES,
    forwardedHeadersSeenByBackend: forwardedHeaders,
    frontDoorResponseHeaders: responseHeaders,
    throughput: { rows, runs },
    churn,
    busDelayMs: delay ? { ...delay, addFromAckStats: stats(delay.addFromAck), removeFromAckStats: stats(delay.removeFromAck) } : null,
    daemonRss: rss,
    trafficCounters: counters,
    targets: targetsMet,
    notes,
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  log(`results written to ${file}`);
}

try {
  await main();
} catch (e) {
  killAllSync();
  process.stderr.write(`bench:frontdoor failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
}
