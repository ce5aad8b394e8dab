// Which config files to load: the ones given with -f, or machineroom.yml found in cwd or a parent.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { MachineroomError } from '../errors/index.js';

/** File names discovery looks for, in order of preference within one directory. */
export const CONFIG_FILE_NAMES = ['machineroom.yml', 'machineroom.yaml'] as const;

/** Absolute paths of the config files, in override order; throws ERR_CONFIG_NOT_FOUND. */
export async function findConfigFiles(files: readonly string[], cwd: string): Promise<string[]> {
  if (files.length > 0) return Promise.all(files.map((file) => requireFile(file, cwd)));
  return [await discoverConfigFile(cwd)];
}

async function requireFile(file: string, cwd: string): Promise<string> {
  const absolute = path.resolve(cwd, file);
  if (await isFile(absolute)) return absolute;
  throw new MachineroomError('ERR_CONFIG_NOT_FOUND', `config file ${file} not found (looked for ${absolute}); check the path given with -f`, { details: { file: absolute } });
}

async function discoverConfigFile(cwd: string): Promise<string> {
  const searched: string[] = [];
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if (await isFile(candidate)) return candidate;
    }
    searched.push(dir);
    if (path.dirname(dir) === dir) break;
  }
  const message = `no ${CONFIG_FILE_NAMES.join(' or ')} in ${searched[0]} or any parent directory (searched ${searched.join(', ')}); create one, or pass its path with -f <file>`;
  throw new MachineroomError('ERR_CONFIG_NOT_FOUND', message, { details: { searched } });
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
