// The bus's durable data in memory (KV with tombstones, sessions, registrations) and the one function that changes
// it. Live writes and recovery both go through applyChange, so a replayed log rebuilds exactly the state it logged.
import type { KvEntry, Session } from './kv-types.js';

/** A deleted key's marker, so index reads stay monotonic after deletes (Consul PR #577). */
export interface Tombstone {
  index: number;
  /** When it was made (ms since the epoch), for reaping after the tombstone TTL. */
  at: number;
}

/** Everything the bus keeps on disk, in memory. */
export interface BusState {
  kv: Map<string, KvEntry>;
  tombstones: Map<string, Tombstone>;
  sessions: Map<string, Session>;
  /** Which keys each session holds (kept by applyChange). */
  locks: Map<string, Set<string>>;
  registrations: Map<string, unknown>;
  /** The KV table's index: the last index that changed an entry or made a tombstone (survives reaping). */
  kvIndex: number;
  /** The sessions table's index. */
  sessionsIndex: number;
  /** The highest bus index any change carried. */
  maxIndex: number;
}

/** One atomic, durable change: the unit of the write-ahead log. Entries are whole (they carry their indexes). */
export interface BusChange {
  /** The bus index the change took (0 for registrations, which take none). */
  index: number;
  /** When it was made (ms since the epoch). */
  at: number;
  kvPut?: KvEntry[];
  kvDelete?: string[];
  sessionPut?: Session[];
  sessionDelete?: string[];
  registrationPut?: { id: string; record: unknown }[];
  registrationDelete?: string[];
}

/** An empty state. */
export function createBusState(): BusState {
  return {
    kv: new Map(),
    tombstones: new Map(),
    sessions: new Map(),
    locks: new Map(),
    registrations: new Map(),
    kvIndex: 0,
    sessionsIndex: 0,
    maxIndex: 0,
  };
}

function unlinkLock(state: BusState, entry: KvEntry | undefined): void {
  if (!entry?.Session) return;
  const held = state.locks.get(entry.Session);
  held?.delete(entry.Key);
  if (held && held.size === 0) state.locks.delete(entry.Session);
}

function linkLock(state: BusState, entry: KvEntry): void {
  if (!entry.Session) return;
  let held = state.locks.get(entry.Session);
  if (!held) state.locks.set(entry.Session, (held = new Set()));
  held.add(entry.Key);
}

/** Applies a change to the state (live, or replaying the log). */
export function applyChange(state: BusState, change: BusChange): void {
  for (const key of change.kvDelete ?? []) {
    unlinkLock(state, state.kv.get(key));
    state.kv.delete(key);
    state.tombstones.set(key, { index: change.index, at: change.at });
  }
  for (const entry of change.kvPut ?? []) {
    unlinkLock(state, state.kv.get(entry.Key));
    const frozen = Object.freeze({ ...entry });
    state.kv.set(entry.Key, frozen);
    linkLock(state, frozen);
    state.tombstones.delete(entry.Key);
  }
  if ((change.kvDelete?.length ?? 0) + (change.kvPut?.length ?? 0) > 0) state.kvIndex = Math.max(state.kvIndex, change.index);
  for (const id of change.sessionDelete ?? []) state.sessions.delete(id);
  for (const s of change.sessionPut ?? []) state.sessions.set(s.ID, Object.freeze({ ...s }));
  if ((change.sessionDelete?.length ?? 0) + (change.sessionPut?.length ?? 0) > 0) state.sessionsIndex = Math.max(state.sessionsIndex, change.index);
  for (const id of change.registrationDelete ?? []) state.registrations.delete(id);
  for (const r of change.registrationPut ?? []) state.registrations.set(r.id, r.record);
  state.maxIndex = Math.max(state.maxIndex, change.index);
}

/** Drops tombstones older than `ttlMs` (Consul reaps them after tombstone_ttl); prefix indexes may then go back. */
export function reapTombstones(state: BusState, now: number, ttlMs: number): number {
  let reaped = 0;
  for (const [key, t] of state.tombstones) {
    if (now - t.at >= ttlMs) {
      state.tombstones.delete(key);
      reaped++;
    }
  }
  return reaped;
}
