// Every instance's output: kept on disk per source with a size cap and rotation, and fanned out live to followers.
import { createWriteStream, openSync, readFileSync, renameSync, statSync, readdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { join } from 'node:path';

/** One line of output. `source` is "alpha.1", "alpha.build" or "machineroom" (events). */
export interface LogLine {
  ts: number;
  source: string;
  service: string;
  stream: 'stdout' | 'stderr' | 'event';
  text: string;
}

/** Which lines a reader or follower wants. */
export interface LogFilter {
  /** "alpha" (every instance and build of alpha) or "alpha.1"; empty = everything. */
  targets?: string[];
  since?: number;
  tail?: number;
  /** Include the daemon's own event lines (source "machineroom"). */
  events?: boolean;
}

/** The log store and fan-out. */
export interface LogHub {
  write(line: LogLine): void;
  read(filter: LogFilter): LogLine[];
  subscribe(filter: LogFilter, fn: (line: LogLine) => void): () => void;
  close(): Promise<void>;
}

interface Sink {
  stream: WriteStream;
  bytes: number;
  dropped: number;
}

const STREAM_CODE = { stdout: 'o', stderr: 'e', event: 'v' } as const;
const CODE_STREAM: Record<string, LogLine['stream']> = { o: 'stdout', e: 'stderr', v: 'event' };

/** Whether a line matches a filter's targets. */
export function matchesTargets(line: LogLine, targets: string[] | undefined, events = true): boolean {
  if (line.source === 'machineroom' && !events) return false;
  if (!targets || targets.length === 0) return true;
  return targets.some((t) => line.source === t || line.service === t || line.source.startsWith(t + '.'));
}

function parseFile(path: string, source: string, service: string, out: LogLine[]): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  for (const row of text.split('\n')) {
    if (!row) continue;
    const t1 = row.indexOf('\t');
    const t2 = row.indexOf('\t', t1 + 1);
    if (t1 < 0 || t2 < 0) continue;
    out.push({ ts: Number(row.slice(0, t1)), source, service, stream: CODE_STREAM[row.slice(t1 + 1, t2)] ?? 'stdout', text: row.slice(t2 + 1) });
  }
}

/** Creates the hub writing `<dir>/<source>.log` (rotated to `.log.1` past `maxFileBytes`). */
export function createLogHub(opts: { dir: string; maxFileBytes?: number; maxBufferedBytes?: number }): LogHub {
  const maxFile = opts.maxFileBytes ?? 10 * 1024 * 1024;
  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
  const sinks = new Map<string, Sink>();
  const services = new Map<string, string>();
  const subscribers = new Set<{ filter: LogFilter; fn: (l: LogLine) => void }>();

  function open(source: string): Sink {
    const path = join(opts.dir, `${source}.log`);
    let bytes = 0;
    try {
      bytes = statSync(path).size;
    } catch {
      /* new file */
    }
    // Open the fd now (not lazily as createWriteStream would): a rotation renames the file this fd writes to.
    const s: Sink = { stream: createWriteStream(path, { fd: openSync(path, 'a') }), bytes, dropped: 0 };
    s.stream.on('error', () => {
      /* disk trouble must not take the daemon down; lines still reach followers */
    });
    sinks.set(source, s);
    return s;
  }

  function rotate(source: string, s: Sink): Sink {
    s.stream.end();
    const path = join(opts.dir, `${source}.log`);
    try {
      renameSync(path, path + '.1');
    } catch {
      /* nothing to rotate */
    }
    sinks.delete(source);
    const next = open(source);
    next.bytes = 0;
    return next;
  }

  function writeDropNote(s: Sink, ts: number): void {
    const note = `${ts}\tv\t[machineroom] ${s.dropped} lines dropped: output came faster than the disk took it\n`;
    s.stream.write(note);
    s.bytes += note.length;
    s.dropped = 0;
  }

  function persist(line: LogLine): void {
    let s = sinks.get(line.source) ?? open(line.source);
    services.set(line.source, line.service);
    if (s.stream.writableLength > maxBuffered) {
      s.dropped += 1; // the disk is slower than the instance: drop rather than block it or grow without bound
      return;
    }
    if (s.dropped > 0) writeDropNote(s, line.ts);
    const row = `${line.ts}\t${STREAM_CODE[line.stream]}\t${line.text}\n`;
    s.stream.write(row);
    s.bytes += Buffer.byteLength(row);
    if (s.bytes > maxFile) s = rotate(line.source, s);
  }

  return {
    write(line) {
      persist(line);
      for (const sub of subscribers) {
        if (sub.filter.since !== undefined && line.ts < sub.filter.since) continue;
        if (matchesTargets(line, sub.filter.targets, sub.filter.events ?? true)) sub.fn(line);
      }
    },
    read(filter) {
      const out: LogLine[] = [];
      let files: string[] = [];
      try {
        files = readdirSync(opts.dir);
      } catch {
        return out;
      }
      const sources = new Set(files.filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -4)));
      for (const source of sources) {
        const service = services.get(source) ?? (source === 'machineroom' ? 'machineroom' : source.split('.')[0] ?? source);
        const probe: LogLine = { ts: 0, source, service, stream: 'stdout', text: '' };
        if (!matchesTargets(probe, filter.targets, filter.events ?? true)) continue;
        parseFile(join(opts.dir, `${source}.log.1`), source, service, out);
        parseFile(join(opts.dir, `${source}.log`), source, service, out);
      }
      let lines = out.filter((l) => filter.since === undefined || l.ts >= filter.since);
      lines.sort((a, b) => a.ts - b.ts);
      if (filter.tail !== undefined) lines = filter.tail === 0 ? [] : lines.slice(-filter.tail);
      return lines;
    },
    subscribe(filter, fn) {
      const sub = { filter, fn };
      subscribers.add(sub);
      return () => subscribers.delete(sub);
    },
    async close() {
      subscribers.clear();
      await Promise.all(
        [...sinks.values()].map((s) => {
          if (s.dropped > 0) writeDropNote(s, Date.now());
          return new Promise<void>((r) => s.stream.end(r));
        }),
      );
      sinks.clear();
    },
  };
}
