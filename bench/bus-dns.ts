// DNS throughput with dnsperf (Debian's dnsperf 2.x), and a one-query look at what each server answers, so the two
// sides are seen to serve the same names before they are compared.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

/** The query files bench-peers.md §4 uses, as name and type. */
export const DNS_QUERIES = {
  A: 'alpha.service.consul A',
  SRV: '_alpha._tcp.service.consul SRV',
} as const;

/** dnsperf's figures for one run. */
export interface DnsperfResult {
  qps: number;
  sent: number;
  lost: number;
  noerror: number;
  avgLatencyMs: number;
}

/** Runs `dnsperf -s 127.0.0.1 -p PORT -d FILE -l SECONDS -c 1 [-Q CAP]` (bounded: killed after SECONDS + 15 s). */
export function runDnsperf(port: number, file: string, seconds: number, cap?: number): Promise<DnsperfResult> {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-c', '1', ...(cap ? ['-Q', String(cap)] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-65536)));
    child.stderr.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-65536)));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 15) * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
      const qps = num(/Queries per second:\s+([\d.]+)/);
      if (code !== 0 || !Number.isFinite(qps)) return reject(new Error(`dnsperf ${args.join(' ')} failed (exit ${code}):\n${out.slice(-2000)}`));
      resolve({
        qps,
        sent: num(/Queries sent:\s+(\d+)/),
        lost: num(/Queries lost:\s+(\d+)/),
        noerror: num(/NOERROR (\d+)/) || 0,
        avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
      });
    });
  });
}

/** One UDP query; the answer in one line (`rcode: record, record | additional: ...`), or why there is none. */
export function describeAnswer(port: number, name: string, type: 'A' | 'SRV'): Promise<string> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const done = (text: string): void => {
      clearTimeout(timer);
      sock.close();
      resolve(text);
    };
    const timer = setTimeout(() => done('no answer in 2 s'), 2000);
    sock.on('error', (e) => done(`error: ${e.message}`));
    sock.on('message', (msg) => {
      const p = dnsPacket.decode(msg);
      const show = (a: dnsPacket.Answer): string => {
        if (a.type === 'OPT') return 'OPT';
        if (a.type === 'SRV') return `SRV ${a.data.priority ?? 0} ${a.data.weight ?? 0} ${a.data.port} ${a.data.target}`;
        return `${a.type} ${typeof a.data === 'string' ? a.data : JSON.stringify(a.data)}`;
      };
      const additionals = (p.additionals ?? []).filter((a) => a.type !== 'OPT');
      done(`${(p as { rcode?: string }).rcode ?? '?'}: ${(p.answers ?? []).map(show).join(', ') || '(none)'}${additionals.length ? ` | additional: ${additionals.map(show).join(', ')}` : ''}`);
    });
    sock.send(dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }] }), port, '127.0.0.1');
  });
}
