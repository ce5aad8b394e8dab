// Benchmark (not a test): time from `up -d --wait` to all healthy for 1, 10 and 50 replicas of a trivial HTTP service,
// `scale` 1→50, and the daemon's memory at 50 instances. The baseline ("bare") spawns the same processes directly and
// polls the same health endpoints, so the ratio is machineroom's overhead on this machine, whatever its load.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';

const BIN = fileURLToPath(new URL('../../bin/machineroom.js', import.meta.url));
const PORT = 23456;
const SERVER = `require('http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => process.exit(0));`;
const REPS = Number(process.env.BENCH_REPS ?? 3);

function cli(dir: string, ...args: string[]): void {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, MACHINEROOM_API_PORT: '0', NO_COLOR: '1' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`machineroom ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
}

function project(replicas: number): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mr-bench-')));
  writeFileSync(join(dir, 'server.js'), SERVER);
  writeFileSync(join(dir, 'machineroom.yml'), `name: bench\nservices:\n  web:\n    command: node server.js\n    replicas: ${replicas}\n    port: ${PORT}\n    health: { http: /, interval: 5s }\n`);
  return dir;
}

function get(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The baseline: spawn N servers on their own 127.78.x.y addresses and poll each until it answers. */
async function bare(n: number, dir: string): Promise<number> {
  const t0 = performance.now();
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const host = `127.78.${Math.floor((i + 2) / 250)}.${((i + 2) % 250) + 2}`;
    children.push(spawn(process.execPath, ['server.js'], { cwd: dir, env: { ...process.env, HOST: host, PORT: String(PORT) }, stdio: 'ignore', detached: true }));
  }
  await Promise.all(
    children.map(async (_c, i) => {
      const host = `127.78.${Math.floor((i + 2) / 250)}.${((i + 2) % 250) + 2}`;
      while (!(await get(host, PORT))) await new Promise((r) => setTimeout(r, 20));
    }),
  );
  const ms = performance.now() - t0;
  for (const c of children) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return ms;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const n of [1, 10, 50]) {
    const mr: number[] = [];
    const base: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const dir = project(n);
      try {
        base.push(await bare(n, dir));
        const t0 = performance.now();
        cli(dir, 'up', '-d', '--wait', '--wait-timeout', '120s');
        mr.push(performance.now() - t0);
      } finally {
        cli(dir, 'down');
        rmSync(dir, { recursive: true, force: true });
      }
    }
    rows.push(`up -d --wait, ${n} replicas\t${median(mr).toFixed(0)} ms\tbare spawn+poll ${median(base).toFixed(0)} ms\tratio ${(median(mr) / median(base)).toFixed(2)}`);
  }
  const scaleTimes: number[] = [];
  let memory = '';
  for (let rep = 0; rep < REPS; rep++) {
    const dir = project(1);
    try {
      cli(dir, 'up', '-d', '--wait');
      const t0 = performance.now();
      cli(dir, 'scale', 'web=50');
      cli(dir, 'up', '-d', '--wait', '--wait-timeout', '120s');
      scaleTimes.push(performance.now() - t0);
      if (rep === 0) {
        const daemon = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { pid: number };
        const wd = spawnSync('pgrep', ['-f', `watchdog-main.js ${dir} `], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
        memory = `daemon RSS at 50 instances\t${(rssKb(daemon.pid) / 1024).toFixed(1)} MiB\twatchdog ${wd.length ? (rssKb(wd[0]!) / 1024).toFixed(1) : '?'} MiB`;
      }
    } finally {
      cli(dir, 'down');
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const baseline = median(await Promise.all([0].map(async () => {
    const dir = project(1);
    try {
      return await bare(50, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })));
  rows.push(`scale 1→50 (to all healthy)\t${median(scaleTimes).toFixed(0)} ms\tbare 50 spawn+poll ${baseline.toFixed(0)} ms\tratio ${(median(scaleTimes) / baseline).toFixed(2)}`);
  rows.push(memory);
  process.stdout.write(`machineroom start-up benchmark (median of ${REPS}, node ${process.version})\n${rows.join('\n')}\n`);
}

await main();
