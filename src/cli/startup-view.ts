// The progress view while instances start (state and elapsed time per instance), and the summary that follows.
import type { MachineRoom, RoomStatus } from '../client/index.js';
import { isFailing, isReady, isSettled } from '../client/index.js';
import type { InstanceStatus } from '../client/index.js';
import { humanDuration, paint, serviceColor, table } from './output.js';

/** How startup ended. */
export interface StartupOutcome {
  status: RoomStatus;
  ready: boolean;
  failing: InstanceStatus[];
  timedOut: boolean;
  elapsedMs: number;
}

function label(i: InstanceStatus): { text: string; style: 'green' | 'yellow' | 'red' | 'gray' } {
  if (isReady(i)) return { text: i.health === 'none' ? 'running' : 'healthy', style: 'green' };
  if (isSettled(i)) return { text: 'completed', style: 'green' };
  if (isFailing(i)) return { text: i.state === 'running' ? 'unhealthy' : i.state, style: 'red' };
  if (i.state === 'running') return { text: 'checking', style: 'yellow' };
  return { text: i.state, style: i.state === 'waiting' ? 'gray' : 'yellow' };
}

function renderProgress(status: RoomStatus, started: Map<string, number>, color: boolean, width = nameWidth(status)): string[] {
  return status.instances.map((i) => {
    const l = label(i);
    const since = started.get(i.name) ?? Date.now();
    const mark = l.style === 'green' ? '✔' : l.style === 'red' ? '✘' : '…';
    const detail = i.warning ?? (l.style === 'red' ? (i.healthOutput ?? (i.lastExit ? `last exit ${i.lastExit.signal ?? i.lastExit.code}` : '')) : '');
    return ` ${paint(mark, l.style, color)} ${paint(i.name.padEnd(width), serviceColor(i.service), color)} ${paint(l.text.padEnd(10), l.style, color)} ${humanDuration(Date.now() - since).padStart(6)}${detail ? '  ' + paint(detail.slice(0, 120), 'gray', color) : ''}`;
  });
}

function nameWidth(status: RoomStatus): number {
  return Math.max(8, ...status.instances.map((i) => i.name.length));
}

/**
 * Follows the daemon's events and wakes the caller at each one (a start, a health change, an exit), so that status is
 * read again the moment it changes rather than at the next poll. Ends with `stop`.
 */
function wakeOnEvents(room: MachineRoom, stop: AbortSignal): { next(ms: number): Promise<void> } {
  let pending = false;
  let wake: (() => void) | undefined;
  void (async () => {
    try {
      for await (const _ of room.events({ follow: true }, stop)) {
        pending = true;
        wake?.();
      }
    } catch {
      /* the stream ended (daemon gone, or stopped): the polls go on */
    }
  })();
  return {
    next: (ms) =>
      new Promise<void>((resolve) => {
        if (pending) {
          pending = false;
          return resolve();
        }
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          wake = undefined;
          pending = false;
          resolve();
        }
        wake = done;
      }),
  };
}

/** Reads status until every instance is ready, one is failing, or the timeout passes; draws progress on the way. */
export async function watchStartup(
  room: MachineRoom,
  opts: { timeoutMs: number; out: NodeJS.WriteStream; color: boolean; failFast: boolean; signal?: AbortSignal },
): Promise<StartupOutcome> {
  const began = Date.now();
  const started = new Map<string, number>();
  const tty = opts.out.isTTY === true;
  let drawn = 0;
  const printed = new Map<string, string>();
  const stop = new AbortController();
  const events = wakeOnEvents(room, stop.signal);
  try {
    for (;;) {
      const status = await room.status();
      for (const i of status.instances) if (!started.has(i.name)) started.set(i.name, Date.now());
      const ready = status.instances.length > 0 && status.instances.every(isSettled) && status.services.every((s) => status.instances.filter((i) => i.service === s.name).length >= s.desired);
      const failing = status.instances.filter(isFailing);
      const timedOut = Date.now() - began > opts.timeoutMs;
      const nothingWanted = status.services.every((s) => s.desired === 0);
      const done = ready || nothingWanted || (opts.failFast && failing.length > 0) || timedOut || opts.signal?.aborted === true;
      const lines = renderProgress(status, started, opts.color);
      if (tty) {
        if (drawn > 0) opts.out.write(`\u001b[${drawn}A\u001b[0J`);
        opts.out.write(lines.join('\n') + (lines.length ? '\n' : ''));
        drawn = lines.length;
      } else {
        // Not a terminal: print each instance's line when its state changes.
        for (const i of status.instances) {
          const key = label(i).text;
          if (printed.get(i.name) !== key) {
            printed.set(i.name, key);
            opts.out.write(renderProgress({ ...status, instances: [i] }, started, false, nameWidth(status))[0] + '\n');
          }
        }
      }
      if (done) return { status, ready, failing, timedOut: timedOut && !ready, elapsedMs: Date.now() - began };
      // Status again at the next event, or after a while regardless (a terminal's elapsed times tick every 100 ms).
      await events.next(tty ? 100 : 500);
    }
  } finally {
    stop.abort();
  }
}

/** The summary after start-up: services, instances, addresses and URLs. */
export function renderSummary(status: RoomStatus, color: boolean): string {
  const rows = status.services.map((s) => {
    const insts = status.instances.filter((i) => i.service === s.name);
    const ready = insts.filter(isReady).length;
    // A tcp service (a database) has no front-door URL, and its instances are host:port, not http:// URLs.
    const tcp = s.address?.startsWith('tcp://') ?? false;
    const addrs = insts.filter((i) => i.address).map((i) => (Object.values(i.ports)[0] ? `${tcp ? '' : 'http://'}${i.address}:${Object.values(i.ports)[0]}` : i.address!));
    const health = insts.some((i) => i.health !== 'none') ? `${insts.filter((i) => i.health === 'passing').length} passing` : 'no check';
    const readyText = `${ready}/${s.desired}`;
    const route = !tcp && status.info.frontDoorUrl && insts.some((i) => Object.keys(i.ports).length > 0) ? status.info.frontDoorUrl.replace('//localhost', `//${s.name}.localhost`) + '/' : '-';
    return [paint(s.name, serviceColor(s.name), color), paint(readyText, ready === s.desired ? 'green' : 'yellow', color), health, s.version ?? '-', route, s.address ?? '-', addrs.join(' ') || '-'];
  });
  return table(['SERVICE', 'READY', 'HEALTH', 'VERSION', 'URL', 'ADDRESS', 'INSTANCES'], rows, color);
}
