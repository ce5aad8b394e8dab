// Applies interpolation to every string value of a parsed file, reporting failures at the value's position.

import type { ConfigNode } from './config-node.js';
import { invalidConfig, joinPath } from './config-error.js';
import { interpolateText } from './interpolate.js';
import type { VariableLookup } from './interpolate.js';

/** Returns a copy of the tree with variables expanded in string values (keys are left as written). */
export function interpolateTree(node: ConfigNode, lookup: VariableLookup, path = ''): ConfigNode {
  if (node.kind === 'map') {
    const entries = node.entries.map((entry) => ({ ...entry, value: interpolateTree(entry.value, lookup, joinPath(path, entry.key)) }));
    return { ...node, entries };
  }
  if (node.kind === 'seq') return { ...node, items: node.items.map((item, index) => interpolateTree(item, lookup, joinPath(path, index))) };
  if (typeof node.value !== 'string' || !node.value.includes('$')) return node;
  const result = interpolateText(node.value, lookup);
  if (!result.ok) throw invalidConfig(path, result.message, node.pos);
  return { ...node, value: result.value, ...(result.substituted ? { interpolated: true } : {}) };
}
