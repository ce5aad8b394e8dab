// What the KV, session and registration stores share inside one opened bus data directory.
import type { IndexClock } from './index-clock.js';
import type { BusStore } from './store.js';
import type { BusChange, BusState } from './bus-state.js';

/** Timers the session TTLs run on; tests pass a fake clock's, the daemon the real ones. */
export interface BusTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real timers that do not keep the process alive on their own. */
export const realTimers: BusTimers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The shared state and the one way to change it. */
export interface BusContext {
  readonly state: BusState;
  readonly clock: IndexClock;
  readonly store: BusStore;
  readonly now: () => number;
  readonly timers: BusTimers;
  /** Keys that cannot be acquired until the time (ms) given: set when a session holding them is invalidated. */
  readonly lockDelays: Map<string, number>;
  /**
   * Applies a change in memory at once (visible to reads), logs it, and resolves once it is durable; the clock is
   * notified then. Throws at once when the data is closed or the log has failed.
   */
  commit(change: Omit<BusChange, 'at'>): Promise<void>;
  /** Resolves once everything committed so far is durable (no-op writes wait on this before answering). */
  settle(): Promise<void>;
}
