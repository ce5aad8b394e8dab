// The parsed config as a tree that remembers where every key and value was written, across files.

import type { SourcePos } from './types.js';

/** A position plus the file name as the user typed it (relative to cwd), for messages. */
export interface NodePos extends SourcePos {
  label: string;
}

/** A scalar value; `raw` is its source text, `interpolated` marks values produced by ${...}. */
export interface ScalarNode {
  kind: 'scalar';
  pos: NodePos;
  value: string | number | boolean | null;
  raw?: string;
  interpolated?: boolean;
}

/** A sequence, items in document order. */
export interface SeqNode {
  kind: 'seq';
  pos: NodePos;
  items: ConfigNode[];
}

/** One key of a mapping, with where the key itself was written. */
export interface MapEntry {
  key: string;
  keyPos: NodePos;
  value: ConfigNode;
}

/** A mapping, entries in document order. */
export interface MapNode {
  kind: 'map';
  pos: NodePos;
  entries: MapEntry[];
}

/** Any node of the tree. */
export type ConfigNode = ScalarNode | SeqNode | MapNode;

/** Looks up a mapping's entry by key, so checks after validation can point at what they complain about. */
export function findEntry(node: ConfigNode | undefined, key: string): MapEntry | undefined {
  return node?.kind === 'map' ? node.entries.find((entry) => entry.key === key) : undefined;
}

/** Walks keys down from a node; undefined as soon as a key is missing. */
export function findNode(node: ConfigNode | undefined, keys: readonly string[]): ConfigNode | undefined {
  let current = node;
  for (const key of keys) current = findEntry(current, key)?.value;
  return current;
}

/** Strips the display label, leaving the SourcePos that resolved config carries. */
export function toSourcePos(pos: NodePos): SourcePos {
  return { file: pos.file, line: pos.line, col: pos.col };
}
