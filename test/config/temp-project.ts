// Test helper: throwaway project directories under os.tmpdir(), removed after the tests.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Creates project directories from {relative path: content} maps and removes them all on cleanup. */
export function createTempProjects(): { create(files: Record<string, string>): Promise<string>; cleanup(): Promise<void> } {
  const dirs: string[] = [];
  return {
    async create(files) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'machineroom-config-'));
      dirs.push(dir);
      for (const [name, content] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
        await writeFile(path.join(dir, name), content);
      }
      return dir;
    },
    async cleanup() {
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

/** Joins YAML lines, so tests can count lines and columns. */
export function yaml(...lines: string[]): string {
  return lines.join('\n') + '\n';
}
