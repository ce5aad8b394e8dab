// Writes that never leave a half-written file: write a temp file, fsync, rename over the target.
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

/**
 * Replaces `path` with `data` atomically (readers see the old or the new file, never a mix). `durable: false` skips the
 * fsync, for files that describe live processes only (after a power loss there is nothing left for them to describe):
 * the rename still keeps a crash of this process from leaving half a file.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o644, opts: { durable?: boolean } = {}): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, data);
    if (opts.durable !== false) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
}

/** Reads a JSON file, or returns undefined when it is missing or unreadable. */
export function readJsonFile<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
