// Reading the KV table as Consul does — byte-ordered listings, separator roll-up, X-Consul-Index per read — and a
// copy-on-write overlay that a write or transaction changes until it commits or is thrown away.
import type { KvEntry } from './kv-types.js';
import type { BusChange, BusState } from './bus-state.js';

/** Orders keys by code point (= Go's byte order of UTF-8), not by UTF-16 unit as `<` does. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800..DFFF) encode code points above U+FFFF: move them above U+E000..FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** The index a read answers with is never 0 ("index 1 is always safe"). */
export function clampIndex(index: number): number {
  return index < 1 ? 1 : index;
}

/** X-Consul-Index of a single-key read: the key's ModifyIndex, or the KV table's index when it is missing. */
export function indexOfKey(state: BusState, key: string): number {
  const e = state.kv.get(key);
  return clampIndex(e ? e.ModifyIndex : state.kvIndex);
}

/** X-Consul-Index of a prefix read: the highest ModifyIndex of entries and tombstones under it, else the table's. */
export function indexOfPrefix(state: BusState, prefix: string): number {
  if (prefix === '') return clampIndex(state.kvIndex);
  let max = 0;
  for (const e of state.kv.values()) if (e.ModifyIndex > max && e.Key.startsWith(prefix)) max = e.ModifyIndex;
  for (const [key, t] of state.tombstones) if (t.index > max && key.startsWith(prefix)) max = t.index;
  return clampIndex(max || state.kvIndex);
}

/** Entries under a prefix, in key order. */
export function listEntries(entries: Iterable<KvEntry>, prefix: string): KvEntry[] {
  const out: KvEntry[] = [];
  for (const e of entries) if (e.Key.startsWith(prefix)) out.push(e);
  return out.sort((a, b) => compareKeys(a.Key, b.Key));
}

/** Keys under a prefix; with a separator, everything past the first separator after the prefix rolls up ("web/subdir/"). */
export function rollupKeys(sorted: KvEntry[], prefix: string, separator?: string): string[] {
  const out: string[] = [];
  let previous: string | undefined;
  for (const e of sorted) {
    let key = e.Key;
    if (separator) {
      const at = key.indexOf(separator, prefix.length);
      if (at !== -1) key = key.slice(0, at + separator.length);
    }
    if (key !== previous) out.push(key);
    previous = key;
  }
  return out;
}

/** Uncommitted KV changes over the state: reads see them, the state does not until `change()` is committed. */
export interface KvOverlay {
  get(key: string): KvEntry | undefined;
  list(prefix: string): KvEntry[];
  put(entry: KvEntry): void;
  remove(key: string): void;
  /** The puts and deletes to commit (empty when nothing changed). */
  change(): Pick<BusChange, 'kvPut' | 'kvDelete'>;
}

/** Starts an overlay on the current state. */
export function createKvOverlay(state: BusState): KvOverlay {
  const changed = new Map<string, KvEntry | null>();
  const get = (key: string): KvEntry | undefined => {
    const c = changed.get(key);
    return c === undefined ? state.kv.get(key) : (c ?? undefined);
  };
  return {
    get,
    list(prefix) {
      if (changed.size === 0) return listEntries(state.kv.values(), prefix);
      const merged = new Map(state.kv);
      for (const [key, e] of changed) {
        if (e) merged.set(key, e);
        else merged.delete(key);
      }
      return listEntries(merged.values(), prefix);
    },
    put: (entry) => void changed.set(entry.Key, entry),
    remove(key) {
      if (get(key)) changed.set(key, null);
    },
    change() {
      const kvPut: KvEntry[] = [];
      const kvDelete: string[] = [];
      for (const [key, e] of changed) {
        if (e) kvPut.push(e);
        else if (state.kv.has(key)) kvDelete.push(key);
      }
      const out: Pick<BusChange, 'kvPut' | 'kvDelete'> = {};
      if (kvPut.length) out.kvPut = kvPut;
      if (kvDelete.length) out.kvDelete = kvDelete;
      return out;
    },
  };
}
