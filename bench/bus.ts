// Benchmark (not a test): machineroom's service bus side by side with the real peers, as run in bench-peers.md §3–4:
// KV put/get throughput and latency against etcd's HTTP/JSON gateway, blocking-query wake-up against etcd watches,
// registration delay (TTL check pass → blocking health query answers), and DNS queries per second against dnsmasq.
// It prints figures and ratios (machineroom / peer) and asserts nothing. Every process it starts is stopped by pid.
import { Agent } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runLoad, send, spec, quantile } from './bus-http.js';
import type { LoadResult } from './bus-http.js';
import { hasCommand, killAllSync, startDnsmasq, startEtcd, startMachineroom, stopProc, waitFor } from './bus-procs.js';
import type { DnsmasqPeer, EtcdPeer, MachineroomAgent } from './bus-procs.js';
import { wakeEtcd, wakeMachineroom } from './bus-wake.js';
import type { WakeRound } from './bus-wake.js';
import { measureRegistration } from './bus-registration.js';
import type { RegistrationDelays } from './bus-registration.js';
import { DNS_QUERIES, describeAnswer, runDnsperf } from './bus-dns.js';
import type { DnsperfResult } from './bus-dns.js';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const SECONDS = num('BENCH_SECONDS', 5);
const WARMUP_S = num('BENCH_WARMUP', 1.5);
const CONCURRENCY = num('BENCH_CONCURRENCY', 32);
const WAKE_ROUNDS = num('BENCH_WAKE_ROUNDS', 3);
const REG_REPS = num('BENCH_REG_REPS', 50);
const DNS_SECONDS = num('BENCH_DNS_SECONDS', 5);
const DNS_CAP = 200000;
const SETTLE_MS = 1000;

function log(line: string): void {
  process.stderr.write(`bench:bus ${line}\n`);
}

/** The soft open-files limit this process inherited (each watcher costs a client and a server descriptor). */
function openFilesLimit(): number {
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : 1024;
}

/** Share of both cores busy over ms, from /proc/stat (other sessions' work, when nothing of ours runs yet). */
async function busyShare(ms: number): Promise<number> {
  const read = (): number[] => {
    try {
      return readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    } catch {
      return [];
    }
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  if (a.length < 5 || b.length < 5) return NaN;
  const d = b.map((v, i) => v - a[i]!);
  const total = d.reduce((x, y) => x + y, 0);
  const idle = d[3]! + d[4]!; // idle + iowait
  return total > 0 ? (total - idle) / total : NaN;
}

function version(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return re.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

/** One row of the final table; ratio is machineroom / peer. */
interface Row {
  measure: string;
  mr: string;
  peer: string;
  ratio: string;
  target: string;
}

const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
/** machineroom / peer; n/a unless both are positive (a watcher answered before the write's ack gives a negative time). */
const ratioOf = (a: number, b: number): number => (Number.isFinite(a) && Number.isFinite(b) && a > 0 && b > 0 ? a / b : NaN);
const ratioText = (a: number, b: number): string => (Number.isFinite(ratioOf(a, b)) ? `${ratioOf(a, b).toFixed(2)}×` : 'n/a');
/** "met"/"missed" next to a target: a reading of the figure, not an assertion. */
const verdict = (ok: boolean | undefined, text: string): string => (ok === undefined ? text : `${text} (${ok ? 'met' : 'missed'})`);

function loadRows(op: string, mr: LoadResult, peer: LoadResult | undefined, peerName: string): Row[] {
  const r = ratioOf(mr.rps, peer?.rps ?? NaN);
  const extra = (x: LoadResult): string => (x.non2xx || x.errors ? ` [${x.non2xx} non-2xx, ${x.errors} errors]` : '');
  return [
    { measure: `KV ${op} rps (c=${CONCURRENCY}, ${SECONDS}s)`, mr: `${fmt(mr.rps, 0)}${extra(mr)}`, peer: peer ? `${fmt(peer.rps, 0)}${extra(peer)}` : `n/a (${peerName})`, ratio: ratioText(mr.rps, peer?.rps ?? NaN), target: verdict(Number.isFinite(r) ? r >= 1 : undefined, '≥ 1.0×') },
    { measure: `KV ${op} p50 ms`, mr: fmt(mr.p50Ms, 2), peer: peer ? fmt(peer.p50Ms, 2) : 'n/a', ratio: ratioText(mr.p50Ms, peer?.p50Ms ?? NaN), target: '' },
    { measure: `KV ${op} p99 ms`, mr: fmt(mr.p99Ms, 2), peer: peer ? fmt(peer.p99Ms, 2) : 'n/a', ratio: ratioText(mr.p99Ms, peer?.p99Ms ?? NaN), target: '' },
  ];
}

/** Pools the rounds' samples (each round is one write waking every watcher). */
function pool(rounds: WakeRound[]): { fromSend: number[]; fromAck: number[]; missed: number; early: number; writeMs: number } {
  const fromSend = rounds.flatMap((r) => r.fromSend).sort((a, b) => a - b);
  const fromAck = rounds.flatMap((r) => r.fromAck).sort((a, b) => a - b);
  const writes = rounds.map((r) => r.writeMs).sort((a, b) => a - b);
  return { fromSend, fromAck, missed: rounds.reduce((s, r) => s + r.missed, 0), early: rounds.reduce((s, r) => s + r.early, 0), writeMs: quantile(writes, 0.5) };
}

function wakeRows(n: number, mrRounds: WakeRound[], etcdRounds: WakeRound[] | undefined): Row[] {
  const mr = pool(mrRounds);
  const et = etcdRounds ? pool(etcdRounds) : undefined;
  const rows: Row[] = [];
  const p = (xs: number[] | undefined, q: number): number => (xs ? quantile(xs, q) : NaN);
  const label = `wake-up of ${n} watchers`;
  for (const [name, pick] of [
    ['from just before the write was sent', (x: typeof mr) => x.fromSend],
    ['from the write acknowledgement', (x: typeof mr) => x.fromAck],
  ] as const) {
    for (const q of [0.5, 0.99]) {
      const a = quantile(pick(mr), q);
      const b = p(et ? pick(et) : undefined, q);
      const isTarget = q === 0.99 && name.startsWith('from just');
      rows.push({
        measure: `${label}, p${q * 100} ms ${name}`,
        mr: fmt(a, 1),
        peer: et ? fmt(b, 1) : 'n/a (etcd missing)',
        ratio: ratioText(a, b),
        target: isTarget ? verdict(Number.isFinite(ratioOf(a, b)) ? a <= b : undefined, 'mr ≤ etcd') : '',
      });
    }
  }
  const tally = (x: typeof mr): string => `${x.fromSend.length} woke, ${x.missed} missed, ${x.early} early`;
  rows.push({ measure: `${label}: woken / missed / early (${mrRounds.length} rounds)`, mr: tally(mr), peer: et ? tally(et) : 'n/a', ratio: '', target: '' });
  rows.push({ measure: 'the write that wakes them (send → ack), median ms', mr: fmt(mr.writeMs, 1), peer: et ? fmt(et.writeMs, 1) : 'n/a', ratio: ratioText(mr.writeMs, et?.writeMs ?? NaN), target: '' });
  return rows;
}

function registrationRows(d: RegistrationDelays): Row[] {
  const none = 'no peer';
  return [
    { measure: `registration delay p50 ms (pass sent → passing answer, ${d.fromSend.length} reps)`, mr: fmt(quantile(d.fromSend, 0.5), 2), peer: none, ratio: '', target: '' },
    { measure: 'registration delay p99 ms (pass sent → passing answer)', mr: fmt(quantile(d.fromSend, 0.99), 2), peer: none, ratio: '', target: '' },
    { measure: 'registration delay p50 / p99 ms from the pass acknowledgement', mr: `${fmt(quantile(d.fromAck, 0.5), 2)} / ${fmt(quantile(d.fromAck, 0.99), 2)}`, peer: none, ratio: '', target: '' },
  ];
}

function dnsRow(what: string, mr: DnsperfResult, peer: DnsperfResult | undefined, target: boolean): Row {
  const r = ratioOf(mr.qps, peer?.qps ?? NaN);
  const lost = (x: DnsperfResult): string => (x.lost ? ` (${x.lost} lost)` : '');
  return {
    measure: what,
    mr: `${fmt(mr.qps, 0)}${lost(mr)}`,
    peer: peer ? `${fmt(peer.qps, 0)}${lost(peer)}` : 'n/a (dnsmasq/dnsperf missing)',
    ratio: ratioText(mr.qps, peer?.qps ?? NaN),
    target: target ? verdict(Number.isFinite(r) ? r >= 0.25 : undefined, '≥ 0.25×') : '',
  };
}

function textTable(rows: Row[], headers: Row): string {
  const all = [headers, ...rows];
  const keys = ['measure', 'mr', 'peer', 'ratio', 'target'] as const;
  const widths = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
  const line = (r: Row): string => keys.map((k, i) => r[k].padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(rows: Row[], headers: Row): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const line = (r: Row): string => `| ${[r.measure, r.mr, r.peer, r.ratio, r.target].map(esc).join(' | ')} |`;
  return [line(headers), '| --- | ---: | ---: | ---: | --- |', ...rows.map(line)].join('\n');
}

async function etcdReady(etcd: EtcdPeer, agent: Agent): Promise<void> {
  await waitFor(
    'etcd /health',
    30000,
    async () => {
      try {
        const r = await send(agent, etcd.clientPort, spec('GET', '/health'), 2000);
        return r.status === 200 && r.body.includes('true') ? true : undefined;
      } catch {
        return undefined;
      }
    },
    etcd.proc,
  );
}

async function main(): Promise<void> {
  const fileLimit = openFilesLimit();
  const wanted = num('BENCH_WAITERS', 1000);
  const waiters = Math.min(wanted, Math.max(10, Math.floor((fileLimit - 200) / 2)));
  const haveEtcd = hasCommand('etcd');
  const haveDns = hasCommand('dnsmasq') && hasCommand('dnsperf');
  if (!haveEtcd) log('etcd is not installed (apt-get install -y etcd-server): its columns will be n/a');
  if (!haveDns) log('dnsmasq or dnsperf is not installed (apt-get install -y dnsmasq-base dnsperf): the DNS peer column will be n/a');
  if (waiters < wanted) log(`ulimit -n is ${fileLimit}: using ${waiters} watchers instead of ${wanted}`);
  const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'mr-bench-bus-')));
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping every process this benchmark started`);
    killAllSync();
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAllSync);

  const load0 = loadavg();
  const busy0 = await busyShare(2000);
  const rows: Row[] = [];
  const notes: string[] = [];
  let mr: MachineroomAgent | undefined;
  let etcd: EtcdPeer | undefined;
  let dnsmasq: DnsmasqPeer | undefined;
  const ctl = new Agent({ keepAlive: true, maxSockets: 4 });
  try {
    mr = await startMachineroom(join(tmp, 'machineroom-data'));
    log(`machineroom agent: HTTP 127.0.0.1:${mr.httpPort}, DNS 127.0.0.1:${mr.dnsPort}, data in ${tmp}/machineroom-data`);
    if (haveEtcd) {
      etcd = await startEtcd(join(tmp, 'etcd'));
      await etcdReady(etcd, ctl);
      log(`etcd: client 127.0.0.1:${etcd.clientPort}, data in ${tmp}/etcd`);
    }
    const json = { 'content-type': 'application/json' };
    const mrPort = mr.httpPort;
    const ok = async (what: string, p: Promise<{ status: number; body: string }>): Promise<void> => {
      const r = await p;
      if (r.status !== 200) throw new Error(`${what}: status ${r.status} ${r.body}`);
    };
    await ok('machineroom PUT /v1/kv/foo', send(ctl, mrPort, spec('PUT', '/v1/kv/foo', 'bar')));
    if (etcd) await ok('etcd put foo', send(ctl, etcd.clientPort, spec('POST', '/v3/kv/put', '{"key":"Zm9v","value":"YmFy"}', json)));

    // 1. KV throughput: put then get, machineroom then etcd, back to back.
    const warmupMs = WARMUP_S * 1000;
    const durationMs = SECONDS * 1000;
    const mrPut = (i: number) => spec('PUT', `/v1/kv/bench/${i % 100}`, 'bar');
    const etcdPutSpec = spec('POST', '/v3/kv/put', '{"key":"Zm9v","value":"YmFy"}', json);
    const mrGetSpec = spec('GET', '/v1/kv/foo');
    const etcdGetSpec = spec('POST', '/v3/kv/range', '{"key":"Zm9v"}', json);
    log(`KV put: machineroom (${WARMUP_S}s warm-up + ${SECONDS}s, ${CONCURRENCY} clients)`);
    const putMr = await runLoad({ port: mrPort, concurrency: CONCURRENCY, warmupMs, durationMs, next: mrPut });
    let putEtcd: LoadResult | undefined;
    if (etcd) {
      log('KV put: etcd');
      putEtcd = await runLoad({ port: etcd.clientPort, concurrency: CONCURRENCY, warmupMs, durationMs, next: () => etcdPutSpec });
    }
    log('KV get: machineroom');
    const getMr = await runLoad({ port: mrPort, concurrency: CONCURRENCY, warmupMs, durationMs, next: () => mrGetSpec });
    let getEtcd: LoadResult | undefined;
    if (etcd) {
      log('KV get: etcd');
      getEtcd = await runLoad({ port: etcd.clientPort, concurrency: CONCURRENCY, warmupMs, durationMs, next: () => etcdGetSpec });
    }
    rows.push(...loadRows('put', putMr, putEtcd, 'etcd missing'), ...loadRows('get', getMr, getEtcd, 'etcd missing'));

    // 2. Wake-up: one unrecorded warm-up round per side, then WAKE_ROUNDS rounds alternating sides.
    log(`wake-up: ${waiters} watchers, 1 warm-up + ${WAKE_ROUNDS} rounds per side`);
    await wakeMachineroom(mrPort, waiters, SETTLE_MS);
    if (etcd) await wakeEtcd(etcd.clientPort, waiters, SETTLE_MS);
    const mrRounds: WakeRound[] = [];
    const etcdRounds: WakeRound[] = [];
    for (let k = 0; k < WAKE_ROUNDS; k++) {
      mrRounds.push(await wakeMachineroom(mrPort, waiters, SETTLE_MS));
      if (etcd) etcdRounds.push(await wakeEtcd(etcd.clientPort, waiters, SETTLE_MS));
    }
    rows.push(...wakeRows(waiters, mrRounds, etcd ? etcdRounds : undefined));
    if (etcd) {
      await stopProc(etcd.proc);
      etcd = undefined;
    }

    // 3. Registration delay (machineroom only).
    log(`registration delay: ${REG_REPS} services`);
    rows.push(...registrationRows(await measureRegistration(mrPort, REG_REPS)));

    // 4. DNS: the same names on both servers; machineroom learns alpha through the agent API.
    await ok(
      'register alpha',
      send(ctl, mrPort, spec('PUT', '/v1/agent/service/register', JSON.stringify({ Name: 'alpha', ID: 'alpha-1', Address: '127.0.0.2', Port: 8080 }))),
    );
    const files = { A: join(tmp, 'queries_a.txt'), SRV: join(tmp, 'queries_srv.txt') };
    writeFileSync(files.A, `${DNS_QUERIES.A}\n`);
    writeFileSync(files.SRV, `${DNS_QUERIES.SRV}\n`);
    if (haveDns) {
      dnsmasq = await startDnsmasq(tmp);
      const port = dnsmasq.port;
      await waitFor('dnsmasq to answer', 10000, async () => ((await describeAnswer(port, 'alpha.service.consul', 'A')).startsWith('NOERROR: A') ? true : undefined), dnsmasq.proc);
      log(`dnsmasq: 127.0.0.1:${port}`);
    }
    for (const type of ['A', 'SRV'] as const) {
      const name = DNS_QUERIES[type].split(' ')[0]!;
      notes.push(`${type} ${name} — machineroom: ${await describeAnswer(mr.dnsPort, name, type)}`);
      if (dnsmasq) notes.push(`${type} ${name} — dnsmasq: ${await describeAnswer(dnsmasq.port, name, type)}`);
    }
    if (hasCommand('dnsperf')) {
      for (const cap of [undefined, DNS_CAP]) {
        for (const type of ['A', 'SRV'] as const) {
          const label = `DNS ${type} qps, dnsperf -c 1 ${cap ? `-Q ${cap}` : 'uncapped'}`;
          log(`${label}: machineroom`);
          const a = await runDnsperf(mr.dnsPort, files[type], DNS_SECONDS, cap);
          let b: DnsperfResult | undefined;
          if (dnsmasq) {
            log(`${label}: dnsmasq`);
            b = await runDnsperf(dnsmasq.port, files[type], DNS_SECONDS, cap);
          }
          rows.push(dnsRow(label, a, b, true));
        }
      }
    } else notes.push('dnsperf is missing (apt-get install -y dnsperf): no DNS figures');
  } finally {
    ctl.destroy();
    await stopProc(dnsmasq?.proc);
    await stopProc(etcd?.proc);
    await stopProc(mr?.proc);
    rmSync(tmp, { recursive: true, force: true });
  }

  const load1 = loadavg();
  const headers: Row = { measure: 'measure', mr: 'machineroom', peer: 'peer (etcd / dnsmasq)', ratio: 'mr/peer', target: 'target' };
  const etcdVersion = haveEtcd ? version('etcd', ['--version'], /etcd Version: (\S+)/) : 'missing';
  const dnsmasqVersion = haveDns ? version('dnsmasq', ['--version'], /Dnsmasq version (\S+)/) : 'missing';
  const dnsperfVersion = hasCommand('dnsperf') ? version('dnsperf', ['-h'], /DNS Performance Testing Tool\s+Version (\S+)/) : 'missing';
  const context = [
    `node ${process.version} · ${cpus().length} CPUs · etcd ${etcdVersion} · dnsmasq ${dnsmasqVersion} · dnsperf ${dnsperfVersion} · ulimit -n ${fileLimit}`,
    `CPU busy with other work just before the start: ${fmt(busy0 * 100, 0)}% of ${cpus().length} cores; load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, ` +
      `at end ${load1.map((x) => x.toFixed(2)).join(' ')} (other work on the same cores skews every figure)`,
    'ratio = machineroom / peer: higher is better for rps and qps, lower is better for ms. Wake-up is pooled over the rounds; ' +
      'a negative time "from the write acknowledgement" means the watcher was answered before the writer got its acknowledgement.',
    ...notes.map((n) => `answer check: ${n}`),
  ];
  process.stdout.write(`\nmachineroom service bus vs peers\n${context.join('\n')}\n\n${textTable(rows, headers)}\n\n`);
  process.stdout.write(`### Service bus vs peers\n\n${context.map((c) => `- ${c}`).join('\n')}\n\n${markdownTable(rows, headers)}\n`);
}

try {
  await main();
} catch (e) {
  killAllSync();
  process.stderr.write(`bench:bus failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
}
