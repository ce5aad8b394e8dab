// The front-door benchmark's peers, configured as in shared/bench-peers.md §1–2: nginx (worker_processes 2, upstream
// keepalive 64, HTTP/1.1 to the upstreams with an empty Connection header) and HAProxy 2.6 (nbthread 2, http-reuse safe,
// master-worker with `expose-fd listeners`). Each lives in its own directory under the benchmark's temporary prefix,
// listens on a free port on 127.0.0.1, is recorded by pid and stopped by pid. Reloads: `nginx -s reload`, SIGUSR2 to
// HAProxy's master.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startProc, stopProc } from './bus-procs.js';
import type { BenchProc } from './bus-procs.js';

/** A running proxy peer. */
export interface Peer {
  kind: 'nginx' | 'haproxy';
  name: string;
  port: number;
  proc: BenchProc;
  /** Rewrites the upstream list and reloads; resolves when the reload command has returned (nginx) or was signalled. */
  setBackends(ports: number[]): Promise<void>;
  stop(): Promise<void>;
}

function nginxConf(dir: string, name: string, port: number, backends: number[]): string {
  const tmp = join(dir, 'tmp', name);
  return `# bench:frontdoor — nginx as in bench-peers.md §1 (ka_w2)
worker_processes 2;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}.error.log`)} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  upstream backends { ${backends.map((p) => `server 127.0.0.1:${p};`).join(' ')} keepalive 64; }
  server { listen 127.0.0.1:${port};
    location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
`;
}

function haproxyCfg(dir: string, name: string, port: number, backends: number[]): string {
  return `# bench:frontdoor — HAProxy as in bench-peers.md §1 (nt2)
global
  nbthread 2
  maxconn 8000
  stats socket ${join(dir, `${name}.sock`)} mode 600 level admin expose-fd listeners
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse safe
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  balance roundrobin
${backends.map((p, i) => `  server s${i + 1} 127.0.0.1:${p}`).join('\n')}
`;
}

/** Runs a short command to completion; rejects with its output on a non-zero exit. */
function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out}`))));
  });
}

/** Starts nginx in the foreground (`daemon off;`) under dir, checking the config with `nginx -t` first. */
export async function startNginx(dir: string, name: string, backends: number[]): Promise<Peer> {
  mkdirSync(join(dir, 'tmp', name), { recursive: true });
  const port = await freePort();
  const conf = join(dir, `${name}.conf`);
  const write = (ports: number[]): void => writeFileSync(conf, nginxConf(dir, name, port, ports));
  write(backends);
  const base = ['-p', dir, '-c', conf, '-e', join(dir, `${name}.error.log`)];
  await run('nginx', [...base, '-t', '-q']);
  const proc = startProc(name, 'nginx', [...base, '-g', 'daemon off;']);
  return {
    kind: 'nginx',
    name,
    port,
    proc,
    async setBackends(ports) {
      write(ports);
      await run('nginx', [...base, '-s', 'reload']);
    },
    stop: () => stopProc(proc),
  };
}

/** Starts HAProxy in master-worker mode (`-W`, not daemonized: the recorded pid is the master's). */
export async function startHaproxy(dir: string, name: string, backends: number[]): Promise<Peer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const cfg = join(dir, `${name}.cfg`);
  const write = (ports: number[]): void => writeFileSync(cfg, haproxyCfg(dir, name, port, ports));
  write(backends);
  await run('haproxy', ['-c', '-q', '-f', cfg]);
  const proc = startProc(name, 'haproxy', ['-W', '-f', cfg]);
  return {
    kind: 'haproxy',
    name,
    port,
    proc,
    async setBackends(ports) {
      write(ports);
      process.kill(proc.pid, 'SIGUSR2');
    },
    stop: () => stopProc(proc),
  };
}
