// JSON forms of the bus's durable data: one write-ahead log record per change, and the whole state for snapshots.
// Values travel as base64; everything else is as Consul shapes it, so the files are readable when debugging.
import type { KvEntry, Session } from './kv-types.js';
import type { BusChange, BusState } from './bus-state.js';
import { applyChange, createBusState } from './bus-state.js';

/** A change as the log stores it: its log sequence number orders replay and says what a snapshot covers. */
export interface LoggedChange extends BusChange {
  lsn: number;
}

interface EntryJson {
  Key: string;
  Flags: number;
  Value: string;
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Session?: string;
}

function entryToJson(e: KvEntry): EntryJson {
  const j: EntryJson = { Key: e.Key, Flags: e.Flags, Value: e.Value.toString('base64'), CreateIndex: e.CreateIndex, ModifyIndex: e.ModifyIndex, LockIndex: e.LockIndex };
  if (e.Session) j.Session = e.Session;
  return j;
}

function entryFromJson(j: EntryJson): KvEntry {
  const e: KvEntry = { Key: j.Key, Flags: j.Flags, Value: Buffer.from(j.Value, 'base64'), CreateIndex: j.CreateIndex, ModifyIndex: j.ModifyIndex, LockIndex: j.LockIndex };
  if (j.Session) e.Session = j.Session;
  return e;
}

/** Serializes one change for the log. */
export function encodeChange(change: LoggedChange): Buffer {
  const { kvPut, ...rest } = change;
  const json: Record<string, unknown> = { ...rest };
  if (kvPut) json.kvPut = kvPut.map(entryToJson);
  return Buffer.from(JSON.stringify(json), 'utf8');
}

/** Parses one logged change; throws on anything that is not one (treated as damage by recovery). */
export function decodeChange(payload: Buffer): LoggedChange {
  const json = JSON.parse(payload.toString('utf8')) as Omit<LoggedChange, 'kvPut'> & { kvPut?: EntryJson[] };
  if (typeof json !== 'object' || json === null || !Number.isSafeInteger(json.lsn) || json.lsn < 1 || !Number.isSafeInteger(json.index)) {
    throw new Error('not a bus change record');
  }
  const { kvPut, ...rest } = json;
  const change: LoggedChange = { ...rest };
  if (kvPut) change.kvPut = kvPut.map(entryFromJson);
  return change;
}

/** Snapshot file identity, checked when loading. */
export const SNAPSHOT_FORMAT = 'machineroom-bus-data';
/** Bumped when the snapshot layout changes incompatibly; a newer file is refused, not misread. */
export const SNAPSHOT_VERSION = 1;

interface SnapshotJson {
  format: string;
  version: number;
  /** The last log record the snapshot includes; replay skips records up to here. */
  lsn: number;
  /** The bus index when it was taken. */
  clockIndex: number;
  kvIndex: number;
  sessionsIndex: number;
  maxIndex: number;
  kv: EntryJson[];
  tombstones: { Key: string; Index: number; At: number }[];
  sessions: Session[];
  registrations: { id: string; record: unknown }[];
}

/** What a snapshot holds besides the state. */
export interface SnapshotMeta {
  lsn: number;
  clockIndex: number;
}

/** Serializes the whole state (synchronously, so it is one consistent cut). */
export function encodeSnapshot(state: BusState, meta: SnapshotMeta): string {
  const json: SnapshotJson = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    lsn: meta.lsn,
    clockIndex: meta.clockIndex,
    kvIndex: state.kvIndex,
    sessionsIndex: state.sessionsIndex,
    maxIndex: state.maxIndex,
    kv: [...state.kv.values()].map(entryToJson),
    tombstones: [...state.tombstones].map(([Key, t]) => ({ Key, Index: t.index, At: t.at })),
    sessions: [...state.sessions.values()],
    registrations: [...state.registrations].map(([id, record]) => ({ id, record })),
  };
  return JSON.stringify(json);
}

/** Rebuilds the state a snapshot holds; throws when the text is not a snapshot of this format. */
export function decodeSnapshot(text: string): { state: BusState; meta: SnapshotMeta } {
  const json = JSON.parse(text) as SnapshotJson;
  if (json?.format !== SNAPSHOT_FORMAT) throw new Error(`not a ${SNAPSHOT_FORMAT} snapshot`);
  if (json.version !== SNAPSHOT_VERSION) throw new Error(`snapshot version ${json.version}; this machineroom reads version ${SNAPSHOT_VERSION}`);
  const state = createBusState();
  applyChange(state, {
    index: 0,
    at: 0,
    kvPut: json.kv.map(entryFromJson),
    sessionPut: json.sessions,
    registrationPut: json.registrations,
  });
  for (const t of json.tombstones) state.tombstones.set(t.Key, { index: t.Index, at: t.At });
  state.kvIndex = json.kvIndex;
  state.sessionsIndex = json.sessionsIndex;
  state.maxIndex = json.maxIndex;
  return { state, meta: { lsn: json.lsn, clockIndex: json.clockIndex } };
}
