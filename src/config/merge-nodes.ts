// Overlays config files (`-f base.yml -f override.yml`) the way Compose does, keeping positions.

import type { ConfigNode, MapEntry } from './config-node.js';

/**
 * Merges a later file's tree over an earlier one: mappings merge key by key, recursively; scalars and
 * sequences are replaced as a whole. Compose concatenates a few lists (ports, volumes, env lists) instead;
 * machineroom deliberately replaces every list so an override always says exactly what it gets. A key keeps
 * the position where it was first declared; replaced values carry the position in the overriding file.
 */
export function mergeNodes(base: ConfigNode, override: ConfigNode): ConfigNode {
  if (base.kind !== 'map' || override.kind !== 'map') return override;
  const entries: MapEntry[] = base.entries.map((entry) => ({ ...entry }));
  for (const entry of override.entries) {
    const existing = entries.find((candidate) => candidate.key === entry.key);
    if (existing) existing.value = mergeNodes(existing.value, entry.value);
    else entries.push(entry);
  }
  return { ...base, entries };
}
