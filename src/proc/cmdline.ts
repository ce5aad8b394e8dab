// Reads a process's argv, for showing what holds a port and recognising our own instances.
import { readProcBytes, splitNulSeparated } from './read-proc-file.js';

/**
 * Reads /proc/<pid>/cmdline as an argv array: undefined when the process is gone or unreadable,
 * [] for kernel threads and zombies. A process may have rewritten its argv (process.title), so treat it as a label.
 */
export function readCmdline(pid: number): string[] | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const bytes = readProcBytes(`/proc/${pid}/cmdline`);
  return bytes === undefined ? undefined : splitNulSeparated(bytes);
}
