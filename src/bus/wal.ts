// The write-ahead log: segment files `wal-<first lsn>.log` in the data directory, appended with group commit —
// records queued in the same tick are written together and share one fdatasync, and each append's promise
// resolves only after the fdatasync that covers it returned. A failed write or sync stops the log for good
// (fail-stop): after an fsync error the page cache cannot be trusted, so later appends reject too.
import { open, readdir, readFile, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeFrame, scanFrames } from './wal-frame.js';
import type { FrameScan } from './wal-frame.js';
import { busUnavailable } from './bus-errors.js';

/** One segment file and the log sequence number of its first record. */
export interface WalSegment {
  name: string;
  startLsn: number;
}

const SEGMENT_RE = /^wal-(\d{16})\.log$/;

/** The file name of the segment whose first record is `startLsn`. */
export function segmentName(startLsn: number): string {
  return `wal-${String(startLsn).padStart(16, '0')}.log`;
}

/** The segments in `dir`, oldest first. */
export async function listSegments(dir: string): Promise<WalSegment[]> {
  const names = await readdir(dir);
  const segments: WalSegment[] = [];
  for (const name of names) {
    const m = SEGMENT_RE.exec(name);
    if (m) segments.push({ name, startLsn: Number(m[1]) });
  }
  return segments.sort((a, b) => a.startLsn - b.startLsn);
}

/** Reads a whole segment and finds its intact records. */
export async function readSegment(dir: string, segment: WalSegment): Promise<FrameScan> {
  return scanFrames(await readFile(join(dir, segment.name)));
}

/** Cuts a segment back to its intact records, durably, so later appends never land after garbage. */
export async function truncateSegment(dir: string, segment: WalSegment, length: number): Promise<void> {
  const fh = await open(join(dir, segment.name), 'r+');
  try {
    await fh.truncate(length);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes renames, creations and unlinks in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Deletes segments (already covered by a durable snapshot), then syncs the directory. */
export async function removeSegments(dir: string, segments: WalSegment[]): Promise<void> {
  if (segments.length === 0) return;
  for (const s of segments) await unlink(join(dir, s.name)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await syncDirectory(dir);
}

/** The appending end of the log. */
export interface WalWriter {
  /** Appends one record; resolves after the fdatasync covering it returned. */
  append(payload: Buffer): Promise<void>;
  /** Resolves once every record appended before the call is durable. */
  settle(): Promise<void>;
  /** Ends the current segment (all its records durable) and continues in a new one whose first record is `startLsn`. */
  rotate(startLsn: number): Promise<WalSegment>;
  /** The segment being appended to. */
  segment(): WalSegment;
  /** Bytes in the current segment. */
  size(): number;
  /** The error that stopped the log, if one did. */
  failure(): Error | undefined;
  /** Settles, then closes the file; later appends reject. Safe to call twice. */
  close(): Promise<void>;
}

type Item =
  | { kind: 'frame'; frame: Buffer; resolve: () => void; reject: (e: unknown) => void }
  | { kind: 'barrier'; resolve: () => void; reject: (e: unknown) => void }
  | { kind: 'rotate'; startLsn: number; resolve: (s: WalSegment) => void; reject: (e: unknown) => void };

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, null);
    off += bytesWritten;
  }
}

/** Opens `segment` in `dir` for appending (creating it, durably, when missing). */
export async function openWalWriter(dir: string, segment: WalSegment): Promise<WalWriter> {
  const openSegment = async (s: WalSegment): Promise<{ fh: FileHandle; size: number }> => {
    const fh = await open(join(dir, s.name), 'a');
    const { size } = await fh.stat();
    await syncDirectory(dir);
    return { fh, size };
  };
  let current = segment;
  let { fh, size: bytes } = await openSegment(segment);
  let queue: Item[] = [];
  let running = false;
  let failed: Error | undefined;
  let closed: Promise<void> | undefined;

  const fail = (err: unknown): void => {
    failed ??= busUnavailable(`the bus's write-ahead log in ${dir} failed; restart the daemon (its data is safe up to the last acknowledged write)`, err);
    const pending = queue;
    queue = [];
    for (const item of pending) item.reject(failed);
  };

  const run = async (): Promise<void> => {
    try {
      while (queue.length > 0 && !failed) {
        const cut = queue.findIndex((i) => i.kind === 'rotate');
        const batch = cut === -1 ? queue.splice(0) : queue.splice(0, cut);
        const frames = batch.flatMap((i) => (i.kind === 'frame' ? [i.frame] : []));
        if (frames.length > 0) {
          try {
            const buf = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
            await writeAll(fh, buf);
            bytes += buf.length;
            await fh.datasync();
          } catch (err) {
            queue.unshift(...batch);
            fail(err);
            return;
          }
        }
        for (const item of batch) (item as { resolve: () => void }).resolve();
        const next = queue[0];
        if (next?.kind === 'rotate') {
          queue.shift();
          try {
            const previous = fh;
            const seg = { name: segmentName(next.startLsn), startLsn: next.startLsn };
            const opened = await openSegment(seg);
            fh = opened.fh;
            bytes = opened.size;
            current = seg;
            await previous.close();
            next.resolve(seg);
          } catch (err) {
            queue.unshift(next);
            fail(err);
            return;
          }
        }
      }
    } finally {
      running = false;
    }
  };

  const kick = (): void => {
    if (running) return;
    running = true;
    // Everything appended in this tick joins the same batch and shares its fdatasync.
    setImmediate(() => void run());
  };

  const enqueue = (item: Item): void => {
    if (failed) return item.reject(failed);
    if (closed) return item.reject(busUnavailable('the bus data is closed'));
    queue.push(item);
    kick();
  };

  return {
    append: (payload) => new Promise<void>((resolve, reject) => enqueue({ kind: 'frame', frame: encodeFrame(payload), resolve, reject })),
    settle: () => new Promise<void>((resolve, reject) => enqueue({ kind: 'barrier', resolve, reject })),
    rotate: (startLsn) => new Promise<WalSegment>((resolve, reject) => enqueue({ kind: 'rotate', startLsn, resolve, reject })),
    segment: () => current,
    size: () => bytes,
    failure: () => failed,
    close() {
      closed ??= (async () => {
        if (!failed) {
          await new Promise<void>((resolve) => {
            queue.push({ kind: 'barrier', resolve, reject: () => resolve() });
            kick();
          });
        }
        await fh.close();
      })();
      return closed;
    },
  };
}
