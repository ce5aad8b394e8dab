// Opens the bus's durable data directory: recovers (snapshot + write-ahead log replay, cut at the first damaged
// record), serves the KV, session and registration stores over it, and compacts the log into snapshots.
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { IndexClock } from './index-clock.js';
import type { BusStore } from './store.js';
import type { KvStore, RegistrationStore, SessionStore } from './kv-types.js';
import type { BusContext, BusTimers } from './bus-context.js';
import type { BusState } from './bus-state.js';
import type { WalSegment, WalWriter } from './wal.js';
import { realTimers } from './bus-context.js';
import { applyChange, createBusState, reapTombstones } from './bus-state.js';
import { decodeChange, decodeSnapshot, encodeChange, encodeSnapshot } from './bus-codec.js';
import { listSegments, openWalWriter, readSegment, removeSegments, segmentName, syncDirectory, truncateSegment } from './wal.js';
import { readSnapshotFile, writeSnapshotFile } from './snapshot.js';
import { createKvStore } from './kv-store.js';
import { createSessionStore } from './session-store.js';
import { createRegistrationStore } from './registration-store.js';
import { busUnavailable } from './bus-errors.js';
import { createLogger } from '../log/index.js';

const log = createLogger('bus');

/** Compact once the current log segment grows past this. */
export const DEFAULT_WAL_MAX_BYTES = 16 * 1024 * 1024;
/** Consul's default tombstone_ttl: deleted keys keep raising prefix indexes for this long. */
export const DEFAULT_TOMBSTONE_TTL_MS = 15 * 60_000;

/** Where the bus data lives and what it shares with the rest of the bus. */
export interface BusDataOptions {
  dir: string;
  clock: IndexClock;
  store: BusStore;
  /** Wall clock in ms (sessions, lock-delay, tombstones); tests pass a fake one. */
  now?: () => number;
  /** Timers for session TTLs; tests pass a fake clock's. */
  timers?: BusTimers;
  walMaxBytes?: number;
  tombstoneTtlMs?: number;
  /** Consul's session_ttl_min (10s). */
  sessionTtlMinMs?: number;
}

/** What recovery found when the data was opened. */
export interface BusRecovery {
  /** The last log record the snapshot held (0: no snapshot). */
  snapshotLsn: number;
  /** Log records replayed on top of it. */
  replayed: number;
  /** The last record now in the state. */
  lastLsn: number;
  /** Where replay stopped early: the segment was cut there and later segments set aside as `*.damaged`. */
  damage?: { segment: string; offset: number; reason: string; setAside: string[] };
}

/** The bus's durable data. */
export interface BusData {
  kv: KvStore;
  sessions: SessionStore;
  registrations: RegistrationStore;
  readonly recovery: BusRecovery;
  /** Writes a snapshot and drops the log it covers. */
  compact(): Promise<void>;
  /** Stops session timers, compacts and closes; later writes reject. Safe to call twice. */
  close(): Promise<void>;
}

async function loadSnapshot(dir: string): Promise<{ state: BusState; lsn: number; clockIndex: number }> {
  const text = await readSnapshotFile(dir);
  if (text === undefined) return { state: createBusState(), lsn: 0, clockIndex: 0 };
  try {
    const { state, meta } = decodeSnapshot(text);
    return { state, lsn: meta.lsn, clockIndex: meta.clockIndex };
  } catch (err) {
    throw busUnavailable(`${join(dir, 'snapshot.json')} is not a readable bus snapshot (${(err as Error).message}); move it aside to start with empty bus data`, err);
  }
}

/** Replays the log after the snapshot, stopping at the first incomplete, corrupt or out-of-sequence record. */
async function replayLog(dir: string, state: BusState, snapshotLsn: number): Promise<{ recovery: BusRecovery; writable: WalSegment }> {
  const segments = await listSegments(dir);
  // A segment is wholly inside the snapshot when the next one starts at or before the record after it.
  const covered = segments.filter((_, i) => (segments[i + 1]?.startLsn ?? Infinity) <= snapshotLsn + 1);
  const live = segments.filter((s) => !covered.includes(s));
  let lastLsn = snapshotLsn;
  let replayed = 0;
  let damage: BusRecovery['damage'];
  let writable: WalSegment | undefined;
  for (let i = 0; i < live.length && !damage; i++) {
    const segment = live[i]!;
    const scan = await readSegment(dir, segment);
    let stop: { offset: number; reason: string } | undefined = scan.damage ? { offset: scan.validLength, reason: scan.damage.reason } : undefined;
    for (const frame of scan.frames) {
      let change;
      try {
        change = decodeChange(frame.payload);
      } catch {
        stop = { offset: frame.offset, reason: 'undecodable record' };
        break;
      }
      if (change.lsn <= snapshotLsn) continue;
      if (change.lsn !== lastLsn + 1) {
        stop = { offset: frame.offset, reason: `record ${change.lsn} where ${lastLsn + 1} was expected` };
        break;
      }
      applyChange(state, change);
      lastLsn = change.lsn;
      replayed++;
    }
    writable = segment;
    if (stop) {
      await truncateSegment(dir, segment, stop.offset);
      const setAside = live.slice(i + 1).map((s) => s.name);
      for (const name of setAside) await rename(join(dir, name), join(dir, `${name}.damaged`));
      if (setAside.length > 0) await syncDirectory(dir);
      damage = { segment: segment.name, offset: stop.offset, reason: stop.reason, setAside };
      log.warn(`bus data: ${segment.name} is damaged at byte ${stop.offset} (${stop.reason}); recovered up to record ${lastLsn}, dropped what followed`);
    }
  }
  await removeSegments(dir, covered);
  // Append to the last segment unless it starts past the next record (then every record in it was dropped).
  if (!writable || writable.startLsn > lastLsn + 1) {
    if (writable) await removeSegments(dir, [writable]);
    writable = { name: segmentName(lastLsn + 1), startLsn: lastLsn + 1 };
  }
  const recovery: BusRecovery = { snapshotLsn, replayed, lastLsn };
  if (damage) recovery.damage = damage;
  return { recovery, writable };
}

/** Opens (creating, or recovering) the bus data in `opts.dir`. */
export async function openBusData(opts: BusDataOptions): Promise<BusData> {
  const { dir, clock, store } = opts;
  const now = opts.now ?? Date.now;
  const walMaxBytes = opts.walMaxBytes ?? DEFAULT_WAL_MAX_BYTES;
  const tombstoneTtlMs = opts.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS;
  await mkdir(dir, { recursive: true });

  const snapshot = await loadSnapshot(dir);
  const { state } = snapshot;
  const { recovery, writable } = await replayLog(dir, state, snapshot.lsn);
  const wal: WalWriter = await openWalWriter(dir, writable);
  clock.advanceTo(Math.max(snapshot.clockIndex, state.maxIndex));

  let lsn = recovery.lastLsn;
  let closed = false;
  let compactions: Promise<void> = Promise.resolve();
  let autoCompacting = false;

  const compactNow = async (): Promise<void> => {
    const next = await wal.rotate(lsn + 1);
    reapTombstones(state, now(), tombstoneTtlMs);
    await writeSnapshotFile(dir, encodeSnapshot(state, { lsn, clockIndex: clock.current() }));
    await removeSegments(dir, (await listSegments(dir)).filter((s) => s.startLsn < next.startLsn));
  };
  const compact = (): Promise<void> => {
    const run = compactions.then(compactNow);
    compactions = run.catch(() => undefined);
    return run;
  };
  const maybeCompact = (): void => {
    if (autoCompacting || closed || wal.size() < walMaxBytes) return;
    autoCompacting = true;
    compact()
      .catch((err: unknown) => log.error('bus data: compaction failed', err))
      .finally(() => (autoCompacting = false));
  };

  const ctx: BusContext = {
    state,
    clock,
    store,
    now,
    timers: opts.timers ?? realTimers,
    lockDelays: new Map(),
    commit(change) {
      if (closed) return Promise.reject(busUnavailable('the bus data is closed'));
      const failure = wal.failure();
      if (failure) return Promise.reject(failure);
      const logged = { ...change, at: now(), lsn: lsn + 1 };
      const payload = encodeChange(logged);
      lsn = logged.lsn;
      applyChange(state, logged);
      return wal.append(payload).then(() => {
        // Wake blocking queries on the next turn, so the writer's own acknowledgement goes out first rather than
        // behind a thousand woken watchers.
        if (change.index > 0) setImmediate(() => clock.notify());
        maybeCompact();
      });
    },
    settle: () => wal.settle(),
  };

  const kv = createKvStore(ctx);
  const sessions = createSessionStore(ctx, opts.sessionTtlMinMs === undefined ? {} : { ttlMinMs: opts.sessionTtlMinMs });
  const registrations = createRegistrationStore(ctx);
  sessions.start();

  let closing: Promise<void> | undefined;
  return {
    kv,
    sessions,
    registrations,
    recovery,
    compact: () => (closed ? Promise.reject(busUnavailable('the bus data is closed')) : compact()),
    close() {
      closing ??= (async () => {
        closed = true;
        sessions.stop();
        await sessions.idle();
        try {
          await compact();
        } catch (err) {
          log.error('bus data: the closing snapshot failed; the write-ahead log still holds every acknowledged write', err);
        }
        await wal.close();
      })();
      return closing;
    },
  };
}
