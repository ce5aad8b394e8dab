// Finds a program on PATH, for verbs that hand over to another tool (psql, a browser opener).
import { accessSync, constants } from 'node:fs';
import { delimiter, resolve } from 'node:path';

/** The absolute path of an executable called `name` on PATH, or undefined. */
export function findExecutable(name: string, pathVar: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const file = resolve(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}
