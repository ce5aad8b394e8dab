// SQL quoting for the statements that cannot take parameters (CREATE ROLE / DATABASE, passwords).
import { MachineroomError } from '../errors/index.js';

function refuseNul(value: string, what: string): void {
  if (value.includes('\0')) throw new MachineroomError('ERR_CONFIG_INVALID', `${what} cannot contain a NUL character`);
}

/** A double-quoted identifier with embedded quotes doubled: `a"b` → `"a""b"`. */
export function quoteIdent(name: string): string {
  refuseNul(name, 'an SQL name');
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal with quotes doubled; the E'' form when it has backslashes, so it reads the same under any standard_conforming_strings. */
export function quoteLiteral(value: string): string {
  refuseNul(value, 'an SQL string');
  const body = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}
