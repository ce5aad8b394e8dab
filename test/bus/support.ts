// Shared helpers for the bus data tests: a fake clock (the only thing mocked), temp dirs, opening bus data.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBusStore, createIndexClock, openBusData } from '../../src/bus/index.js';
import type { BusData, BusDataOptions, BusStore, BusTimers, IndexClock } from '../../src/bus/index.js';

/** A clock tests move by hand; its timers fire as time passes. */
export interface FakeClock {
  now(): number;
  timers: BusTimers;
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void;
  pending(): number;
}

/** Creates a fake clock at `start` ms. */
export function createFakeClock(start = 1_700_000_000_000): FakeClock {
  let t = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void; seq: number }>();
  return {
    now: () => t,
    timers: {
      setTimeout(fn, ms) {
        const id = ++seq;
        timers.set(id, { at: t + Math.max(0, ms), fn, seq: id });
        return id;
      },
      clearTimeout: (handle) => void timers.delete(handle as number),
    },
    advance(ms) {
      const target = t + ms;
      for (;;) {
        let next: [number, { at: number; fn: () => void; seq: number }] | undefined;
        for (const entry of timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) next = entry;
        if (!next) break;
        timers.delete(next[0]);
        t = Math.max(t, next[1].at);
        next[1].fn();
      }
      t = target;
    },
    pending: () => timers.size,
  };
}

/** A fresh temp directory. */
export async function makeTempDir(prefix = 'mr-bus-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a temp directory. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A bus as the daemon wires it: one clock shared by the catalog store and the data. */
export interface TestBus {
  data: BusData;
  clock: IndexClock;
  store: BusStore;
  fake: FakeClock;
}

/** Opens bus data in `dir` with a fresh store and clock, on a fake clock unless `real` timers are asked for. */
export async function openTestBus(dir: string, opts: Partial<Omit<BusDataOptions, 'dir' | 'clock' | 'store'>> & { fake?: FakeClock } = {}): Promise<TestBus> {
  const clock = createIndexClock();
  const store = createBusStore({ nodeName: 'agent', clock });
  const fake = opts.fake ?? createFakeClock();
  const { fake: _unused, ...rest } = opts;
  const data = await openBusData({ dir, clock, store, now: fake.now, timers: fake.timers, ...rest });
  return { data, clock, store, fake };
}

/** Polls `cond` until it holds or the deadline passes. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Bytes of a string. */
export const b = (s: string): Buffer => Buffer.from(s, 'utf8');
