// Converts /proc start times (clock ticks after boot) to wall-clock times, for uptime display.
import { execFileSync } from 'node:child_process';
import { readProcessStat } from './process-stat.js';
import { readProcText } from './read-proc-file.js';

const DEFAULT_CLOCK_TICKS = 100;
let cachedClockTicks: number | undefined;

/** USER_HZ, the unit of /proc start times: `getconf CLK_TCK` run once, lazily; 100 (Linux's value) if that fails. */
export function clockTicksPerSecond(): number {
  if (cachedClockTicks === undefined) {
    let ticks = DEFAULT_CLOCK_TICKS;
    try {
      const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim());
      if (Number.isInteger(out) && out > 0) ticks = out;
    } catch {
      // no getconf: keep the Linux default
    }
    cachedClockTicks = ticks;
  }
  return cachedClockTicks;
}

/** When the machine booted, in ms since the epoch (btime of /proc/stat, 1 s resolution); undefined off Linux. */
export function bootTimeMs(): number | undefined {
  const match = /^btime\s+(\d+)$/m.exec(readProcText('/proc/stat') ?? '');
  return match?.[1] ? Number(match[1]) * 1000 : undefined;
}

/** When process `pid` started, in ms since the epoch (to about a second); undefined when it is gone. */
export function processStartedAtMs(pid: number): number | undefined {
  const stat = readProcessStat(pid);
  const boot = bootTimeMs();
  if (stat === undefined || boot === undefined) return undefined;
  return boot + Math.round((stat.startTime * 1000) / clockTicksPerSecond());
}
