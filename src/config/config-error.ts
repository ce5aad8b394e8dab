// One shape for every config error: `path: what is wrong, got what (file:line:col)`.

import path from 'node:path';
import { MachineroomError } from '../errors/index.js';
import type { ConfigNode, NodePos } from './config-node.js';

/** Builds the ERR_CONFIG_INVALID error for a path ("" for none); `where` is a node position or a label like "environment". */
export function invalidConfig(path: string, problem: string, where: NodePos | string): MachineroomError {
  const at = typeof where === 'string' ? where : formatPos(where);
  const details = typeof where === 'string' ? { path, source: where } : { file: where.file, line: where.line, col: where.col, path };
  return new MachineroomError('ERR_CONFIG_INVALID', `${path === '' ? '' : `${path}: `}${problem} (${at})`, { details });
}

/** Formats a position as the user's editor wants it: file:line:col. */
export function formatPos(pos: NodePos): string {
  return `${pos.label}:${pos.line}:${pos.col}`;
}

/** Describes a value for "got ..." in messages: scalars as written, collections by kind. */
export function describeNode(node: ConfigNode): string {
  if (node.kind === 'map') return 'a map';
  if (node.kind === 'seq') return 'a list';
  if (typeof node.value === 'string') return JSON.stringify(node.value);
  return node.raw !== undefined && node.raw !== '' ? node.raw : String(node.value);
}

/** Extends a dotted path with a key or a list index: services.web.command[1]. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** A file's name as the user would type it from cwd ("machineroom.yml", "../machineroom.yml"). */
export function labelFile(cwd: string, file: string): string {
  return path.relative(cwd, file) || path.basename(file);
}
