// The KV store's flat keys as a tree of folders (split at "/"), for browsing.
import type { KvEntryView } from '../api/wire.js';

/** A folder (path ends with "/") or a key. */
export interface KvNode {
  /** The full path: "postgres/host_count/" for a folder, the key for a key. */
  path: string;
  /** The last segment, as shown. */
  name: string;
  /** A key's entry, or the folder's own marker key ("config/" stored as a key), when there is one. */
  entry?: KvEntryView;
  /** Folders only: sub-folders first, then keys, each by name. */
  children?: KvNode[];
}

/** Builds the tree of `entries` whose key contains `filter` (case-insensitive); folders on the way are kept. */
export function buildKvTree(entries: KvEntryView[], filter = ''): KvNode[] {
  const root: KvNode = { path: '', name: '', children: [] };
  const folders = new Map<string, KvNode>([['', root]]);
  const folder = (path: string): KvNode => {
    let f = folders.get(path);
    if (f) return f;
    const parentPath = path.slice(0, path.slice(0, -1).lastIndexOf('/') + 1);
    f = { path, name: path.slice(parentPath.length, -1) + '/', children: [] };
    folders.set(path, f);
    folder(parentPath).children!.push(f);
    return f;
  };
  const needle = filter.toLowerCase();
  for (const e of entries) {
    if (needle && !e.key.toLowerCase().includes(needle)) continue;
    if (e.key.endsWith('/')) {
      folder(e.key).entry = e;
      continue;
    }
    const cut = e.key.lastIndexOf('/') + 1;
    folder(e.key.slice(0, cut)).children!.push({ path: e.key, name: e.key.slice(cut), entry: e });
  }
  const sort = (n: KvNode) => {
    n.children?.sort((a, b) => (a.children ? 0 : 1) - (b.children ? 0 : 1) || a.name.localeCompare(b.name));
    n.children?.forEach(sort);
  };
  sort(root);
  return root.children!;
}

/** Whether `text` holds a JSON object or array, and then its pretty form. */
export function prettyJson(text: string): string | undefined {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return undefined;
  }
}
