// The supervisor's event stream: started, healthy, unhealthy, exited, restarting, crash loop, scaled; kept on disk and followed live.
import { createWriteStream, readFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';

/** What happened. */
export type EventType =
  | 'daemon'
  | 'config'
  | 'build'
  | 'starting'
  | 'started'
  | 'healthy'
  | 'unhealthy'
  | 'exited'
  | 'restarting'
  | 'crashloop'
  | 'stopping'
  | 'stopped'
  | 'scaled'
  | 'listen'
  | 'error';

/** One event. */
export interface MachineroomEvent {
  seq: number;
  ts: number;
  type: EventType;
  level: 'info' | 'warn' | 'error';
  service?: string;
  instance?: string;
  message: string;
}

/** The event stream. */
export interface EventLog {
  emit(e: Omit<MachineroomEvent, 'seq' | 'ts'>): MachineroomEvent;
  list(): MachineroomEvent[];
  subscribe(fn: (e: MachineroomEvent) => void): () => void;
  close(): Promise<void>;
}

/** Reads events recorded by a daemon (also after it stopped). */
export function readEventFile(path: string): MachineroomEvent[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as MachineroomEvent);
  } catch {
    return [];
  }
}

/** Creates the stream, appending to `file` and keeping the last `keep` events in memory. */
export function createEventLog(opts: { file: string; keep?: number; now?: () => number }): EventLog {
  const keep = opts.keep ?? 2000;
  const now = opts.now ?? Date.now;
  const recent: MachineroomEvent[] = [];
  const subscribers = new Set<(e: MachineroomEvent) => void>();
  const out: WriteStream = createWriteStream(opts.file, { flags: 'w' });
  out.on('error', () => {
    /* events still reach followers */
  });
  let seq = 0;
  return {
    emit(e) {
      const ev: MachineroomEvent = { seq: ++seq, ts: now(), ...e };
      recent.push(ev);
      if (recent.length > keep) recent.splice(0, recent.length - keep);
      out.write(JSON.stringify(ev) + '\n');
      for (const fn of subscribers) fn(ev);
      return ev;
    },
    list: () => [...recent],
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
    close: () =>
      new Promise<void>((r) => {
        subscribers.clear();
        out.end(r);
      }),
  };
}
