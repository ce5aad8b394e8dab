// Snapshot files: the whole bus state written to snapshot.json.tmp, fsynced, renamed over snapshot.json and the
// directory fsynced — so snapshot.json is always either the old complete snapshot or the new complete one.
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from './wal.js';

/** The snapshot's file name in the data directory. */
export const SNAPSHOT_FILE = 'snapshot.json';
const TEMP_FILE = 'snapshot.json.tmp';

/** Replaces the snapshot atomically and durably. */
export async function writeSnapshotFile(dir: string, text: string): Promise<void> {
  const tmp = join(dir, TEMP_FILE);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, SNAPSHOT_FILE));
  await syncDirectory(dir);
}

/** The snapshot's text, or undefined when there is none yet; removes a half-written temporary file. */
export async function readSnapshotFile(dir: string): Promise<string | undefined> {
  await rm(join(dir, TEMP_FILE), { force: true });
  try {
    return await readFile(join(dir, SNAPSHOT_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
