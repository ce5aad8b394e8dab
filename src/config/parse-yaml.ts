// YAML text to a position-keeping ConfigNode tree; syntax errors carry file:line:col.

import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import type { ConfigNode, MapEntry, NodePos } from './config-node.js';
import { invalidConfig } from './config-error.js';

/** Which file a text came from: absolute path and the name to show in messages. */
export interface YamlSource {
  file: string;
  label: string;
}

interface ParseContext {
  doc: Document;
  lines: LineCounter;
  source: YamlSource;
}

/** Parses one config file's text; undefined when the file holds no document (empty or only comments). */
export function parseConfigYaml(text: string, source: YamlSource): ConfigNode | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) throw invalidConfig('', `invalid YAML: ${first.message}`, positionAt({ doc, lines, source }, first.pos[0]));
  if (doc.contents === null) return undefined;
  return convertNode(doc.contents, { doc, lines, source });
}

function positionAt(ctx: ParseContext, offset: number): NodePos {
  const { line, col } = ctx.lines.linePos(Math.max(0, offset));
  return { file: ctx.source.file, label: ctx.source.label, line, col };
}

function convertNode(node: unknown, ctx: ParseContext, fallback?: NodePos): ConfigNode {
  if (isAlias(node)) return convertNode(node.resolve(ctx.doc), ctx, fallback);
  const pos = hasRange(node) ? positionAt(ctx, node.range[0]) : fallback ?? positionAt(ctx, 0);
  if (isMap(node)) return { kind: 'map', pos, entries: convertPairs(node.items as Pair[], ctx) };
  if (isSeq(node)) return { kind: 'seq', pos, items: node.items.map((item) => convertNode(item, ctx, pos)) };
  if (isScalar(node)) return { kind: 'scalar', pos, value: toScalarValue(node.value), ...(node.source !== undefined ? { raw: node.source } : {}) };
  return { kind: 'scalar', pos, value: null };
}

function hasRange(node: unknown): node is YamlNode & { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && Array.isArray((node as { range?: unknown }).range);
}

function convertPairs(pairs: Pair[], ctx: ParseContext): MapEntry[] {
  const explicit = new Set(pairs.filter((pair) => !isMergeKey(pair.key)).map((pair) => keyText(pair, ctx)));
  const entries: MapEntry[] = [];
  const seen = new Set<string>();
  for (const pair of pairs) {
    const converted = isMergeKey(pair.key) ? convertMergeSources(pair.value, ctx) : [convertPair(pair, ctx)];
    for (const entry of converted) {
      if (seen.has(entry.key) || (isMergeKey(pair.key) && explicit.has(entry.key))) continue;
      seen.add(entry.key);
      entries.push(entry);
    }
  }
  return entries;
}

function convertPair(pair: Pair, ctx: ParseContext): MapEntry {
  const key = keyText(pair, ctx);
  const keyPos = hasRange(pair.key) ? positionAt(ctx, pair.key.range[0]) : positionAt(ctx, 0);
  const valueEnd = hasRange(pair.key) ? positionAt(ctx, pair.key.range[1]) : keyPos;
  return { key, keyPos, value: convertNode(pair.value, ctx, valueEnd) };
}

function convertMergeSources(value: unknown, ctx: ParseContext): MapEntry[] {
  const sources = isSeq(value) ? value.items : [value];
  const entries: MapEntry[] = [];
  for (const source of sources) {
    const node = convertNode(source, ctx);
    if (node.kind !== 'map') throw invalidConfig('', 'invalid YAML: a merge key (<<) needs a map or a list of maps', node.pos);
    entries.push(...node.entries);
  }
  return entries;
}

function keyText(pair: Pair, ctx: ParseContext): string {
  if (isScalar(pair.key) && typeof pair.key.value !== 'object') return String(pair.key.value);
  if (isScalar(pair.key) && pair.key.value === null) return '';
  const pos = hasRange(pair.key) ? positionAt(ctx, pair.key.range[0]) : positionAt(ctx, 0);
  throw invalidConfig('', 'invalid YAML: keys must be plain strings, not maps or lists', pos);
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol';
}

function toScalarValue(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}
