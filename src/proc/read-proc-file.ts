// Reads /proc entries that may vanish or be forbidden at any moment, turning those expected failures into undefined.
import { readFileSync, readlinkSync, readdirSync } from 'node:fs';

// A process can exit between listing /proc and reading its files (ENOENT, ESRCH), a file can belong to
// another user (EACCES, EPERM), and a pid directory can turn into something else mid-walk (ENOTDIR, EINVAL).
const EXPECTED_CODES = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'ENOTDIR', 'EINVAL']);

/** Whether an fs error means "gone or not permitted" (a value for callers) rather than a real fault. */
export function isExpectedProcError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && EXPECTED_CODES.has((err as NodeJS.ErrnoException).code ?? '');
}

/** Reads a /proc file as bytes, or undefined when it vanished or is not readable. */
export function readProcBytes(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    if (isExpectedProcError(err)) return undefined;
    throw err;
  }
}

/** Reads a /proc file as UTF-8 text, or undefined when it vanished or is not readable. */
export function readProcText(path: string): string | undefined {
  return readProcBytes(path)?.toString('utf8');
}

/** Reads a /proc symlink (fd/N, ns/net), or undefined when it vanished or is not readable. */
export function readProcLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch (err) {
    if (isExpectedProcError(err)) return undefined;
    throw err;
  }
}

/** Lists a /proc directory, or undefined when it vanished or is not readable. */
export function readProcDir(path: string): string[] | undefined {
  try {
    return readdirSync(path);
  } catch (err) {
    if (isExpectedProcError(err)) return undefined;
    throw err;
  }
}

/** Splits a NUL-separated /proc buffer (cmdline, environ) into strings, dropping the trailing terminator. */
export function splitNulSeparated(bytes: Buffer): string[] {
  const parts = bytes.toString('utf8').split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
