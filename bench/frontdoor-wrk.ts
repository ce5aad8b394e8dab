// wrk for the front-door benchmark: one run as a recorded child process (stopped with everything else on Ctrl-C),
// its output parsed into figures, and the Lua script that counts responses with status >= 300 across threads.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProc, stopProc } from './bus-procs.js';

/** What one wrk run reported. Latencies in ms; NaN when wrk printed none (no response at all). */
export interface WrkResult {
  rps: number;
  requests: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socket: { connect: number; read: number; write: number; timeout: number };
  socketErrors: number;
  /** From the Lua script when one ran: every response, and those with status >= 300. */
  lua?: { responses: number; bad: number; statuses: number[] };
  /** wrk's own text, kept in the JSON results. */
  raw: string;
}

/** Per-thread counters (wrk runs each thread in its own Lua state), summed in done() through thread:get. */
export const COUNT_LUA = `-- machineroom bench:frontdoor: counts responses and those with status >= 300, summed over wrk's threads
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  responses = 0
  bad = 0
  badcodes = ""
end
function response(status, headers, body)
  responses = responses + 1
  if status >= 300 then
    bad = bad + 1
    if bad <= 20 then badcodes = badcodes .. " " .. status end
  end
end
function done(summary, latency, requests)
  local r, b, codes = 0, 0, ""
  for _, t in ipairs(threads) do
    r = r + t:get("responses")
    b = b + t:get("bad")
    codes = codes .. t:get("badcodes")
  end
  io.write(string.format("LUA responses=%d bad=%d\\n", r, b))
  io.write("LUA first statuses >= 300:" .. codes .. "\\n")
end
`;

/** Writes the counting script into dir and returns its path. */
export function writeCountLua(dir: string): string {
  const file = join(dir, 'count.lua');
  writeFileSync(file, COUNT_LUA);
  return file;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** "15.90ms" → 15.9 */
function toMs(value: string, unit: string): number {
  return Number(value) * (UNIT_MS[unit] ?? NaN);
}

/** Parses wrk 4.x output (with --latency). */
export function parseWrk(raw: string): WrkResult {
  const num = (re: RegExp): number => {
    const m = re.exec(raw);
    return m ? Number(m[1]) : 0;
  };
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\b`, 'm').exec(raw);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const reqs = /(\d+) requests in ([\d.]+)(us|ms|s|m|h)/.exec(raw);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  const socket = sock ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) } : { connect: 0, read: 0, write: 0, timeout: 0 };
  const lua = /LUA responses=(\d+) bad=(\d+)/.exec(raw);
  const codes = /LUA first statuses >= 300:([\d ]*)/.exec(raw);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: reqs ? Number(reqs[1]) : 0,
    seconds: reqs ? toMs(reqs[2]!, reqs[3]!) / 1000 : NaN,
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/),
    socket,
    socketErrors: socket.connect + socket.read + socket.write + socket.timeout,
    ...(lua ? { lua: { responses: Number(lua[1]), bad: Number(lua[2]), statuses: (codes?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number) } } : {}),
    raw,
  };
}

/** One wrk run; `host` becomes a Host header (the front door routes by it). */
export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  threads?: number;
  host?: string;
  script?: string;
}

/** Runs wrk to completion (as a recorded process group) and parses what it printed. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [`-t${o.threads ?? 2}`, `-c${o.connections}`, `-d${o.seconds}s`, '--latency'];
  if (o.script) args.push('-s', o.script);
  if (o.host) args.push('-H', `Host: ${o.host}`);
  args.push(o.url);
  const proc = startProc('wrk', 'wrk', args);
  const killer = setTimeout(() => void stopProc(proc, 1000), (o.seconds + 30) * 1000);
  await proc.exited;
  clearTimeout(killer);
  const code = proc.child.exitCode;
  await stopProc(proc, 100);
  const raw = proc.output();
  if (code !== 0 || !/Requests\/sec/.test(raw)) throw new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${raw}`);
  return parseWrk(raw);
}
