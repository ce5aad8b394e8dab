// The processes the bus benchmark runs: machineroom's agent and its peers (etcd, dnsmasq), each in its own process
// group, recorded by pid and stopped by pid (SIGTERM, a grace period, then SIGKILL), even when the benchmark fails.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/machineroom.js', import.meta.url));

/** One started process: its pid is also its process group id (it was started with setsid). */
export interface BenchProc {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Its last 64 KiB of stdout and stderr, for error messages and address parsing. */
  output(): string;
  exited: Promise<void>;
}

const running = new Set<BenchProc>();

/** Sends a signal to a whole process group; quiet when it has gone. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/** Last resort when the benchmark exits on an error or a signal: SIGKILL every group still recorded, synchronously. */
export function killAllSync(): void {
  for (const p of running) signalGroup(p.pid, 'SIGKILL');
  running.clear();
}

/** Starts COMMAND in a new session (so its pid is its group id) and records it until stopProc. */
export function startProc(name: string, command: string, args: string[], cwd?: string): BenchProc {
  const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString('utf8')).slice(-65536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const proc: BenchProc = { name, pid: child.pid, child, output: () => out, exited };
  running.add(proc);
  return proc;
}

/** Stops a process group by its pid: SIGTERM, up to graceMs, then SIGKILL. Safe to call twice. */
export async function stopProc(proc: BenchProc | undefined, graceMs = 5000): Promise<void> {
  if (!proc || !running.has(proc)) return;
  signalGroup(proc.pid, 'SIGTERM');
  const gone = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!gone) {
    signalGroup(proc.pid, 'SIGKILL');
    await Promise.race([proc.exited, sleep(2000)]);
  }
  signalGroup(proc.pid, 'SIGKILL'); // any grandchild left in the group
  running.delete(proc);
}

/** setTimeout as a promise. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until check() is truthy or the deadline passes (then throws, naming what it waited for). */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined, proc?: BenchProc): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (proc && proc.child.exitCode !== null) throw new Error(`${proc.name} exited (code ${proc.child.exitCode}) while waiting for ${what}:\n${proc.output()}`);
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${proc ? `:\n${proc.output()}` : ''}`);
    await sleep(25);
  }
}

function tryTcp(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const got = (s.address() as { port: number }).port;
      s.close(() => resolve(got));
    });
  });
}

function tryUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 free for TCP (and UDP too when asked): the kernel picks it; a small race remains. */
export async function freePort(udpToo = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryTcp(0);
    if (port === undefined) continue;
    if (!udpToo || (await tryUdp(port))) return port;
  }
  throw new Error('no free port on 127.0.0.1 after 50 tries');
}

/** Whether a command is on PATH (the peers are Debian packages that may be missing). */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** machineroom's bus alone, with both listeners on kernel-chosen ports read back from its banner. */
export interface MachineroomAgent {
  proc: BenchProc;
  httpPort: number;
  dnsPort: number;
}

/** Starts `machineroom agent` with its write-ahead log in dataDir (fsynced before each write is acknowledged). */
export async function startMachineroom(dataDir: string): Promise<MachineroomAgent> {
  const proc = startProc('machineroom', process.execPath, [BIN, 'agent', '--http', '127.0.0.1:0', '--dns', '127.0.0.1:0', '--data-dir', dataDir]);
  const ports = await waitFor(
    'machineroom agent to print its addresses',
    20000,
    () => {
      const http = /HTTP\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(proc.output());
      const dns = /DNS\s+127\.0\.0\.1:(\d+)/.exec(proc.output());
      return http && dns ? { httpPort: Number(http[1]), dnsPort: Number(dns[1]) } : undefined;
    },
    proc,
  );
  return { proc, ...ports };
}

/** A single-node etcd 3.4 as in bench-peers.md §3, on free ports, with its data in dataDir. */
export interface EtcdPeer {
  proc: BenchProc;
  clientPort: number;
}

/** Starts etcd exactly as bench-peers.md §3 does, with free ports and a temporary data dir. */
export async function startEtcd(dataDir: string): Promise<EtcdPeer> {
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  // prettier-ignore
  const proc = startProc('etcd', 'etcd', [
    '--name', 'bench', '--data-dir', dataDir,
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `bench=${peer}`, '--initial-cluster-state', 'new', '--listen-metrics-urls', '', '--logger', 'zap', '--log-level', 'warn',
  ]);
  return { proc, clientPort };
}

/** dnsmasq serving the same two names as machineroom, as in bench-peers.md §4. */
export interface DnsmasqPeer {
  proc: BenchProc;
  port: number;
}

/** Starts dnsmasq exactly as bench-peers.md §4 does, on a free UDP+TCP port, with its hosts file in dir. */
export async function startDnsmasq(dir: string): Promise<DnsmasqPeer> {
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, '127.0.0.2 alpha.service.consul\n');
  const port = await freePort(true);
  // prettier-ignore
  const proc = startProc('dnsmasq', 'dnsmasq', [
    '--no-daemon', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`,
    '--srv-host=_alpha._tcp.service.consul,alpha.service.consul,8080', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
  ]);
  return { proc, port };
}
