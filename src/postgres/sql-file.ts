// User SQL files (init scripts, migrations): reading them and turning a server error's position into file:line:column.
import { readFileSync } from 'node:fs';
import { MachineroomError } from '../errors/index.js';
import { describePgError } from './connect.js';

/** Reads an SQL file, failing with the database and file named. */
export function readSqlFile(database: string, kind: string, file: string): string {
  try {
    // A byte-order mark some editors write would reach the server as part of the first statement.
    return readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    throw new MachineroomError('ERR_CONFIG_INVALID', `database ${database}: cannot read ${kind} file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** 1-based line and column of a 1-based character position in `text`. */
export function lineColumnOf(text: string, position: number): { line: number; column: number } {
  const chars = Array.from(text).slice(0, Math.max(0, position - 1));
  let line = 1;
  let column = 1;
  for (const ch of chars) {
    if (ch === '\n') {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}

/** A MachineroomError for a statement in `file` that the server rejected, naming database, file and line. */
export function sqlFileError(database: string, kind: string, file: string, text: string, err: unknown): MachineroomError {
  const position = Number((err as { position?: string }).position);
  const at = Number.isInteger(position) && position > 0 ? lineColumnOf(text, position) : undefined;
  const where = at ? `${file}:${at.line}:${at.column}` : file;
  return new MachineroomError('ERR_CONFIG_INVALID', `database ${database}: ${kind} ${where}: ${describePgError(err)}`, {
    cause: err,
    details: { database, file, ...(at ?? {}), sqlstate: (err as { code?: string }).code },
  });
}
