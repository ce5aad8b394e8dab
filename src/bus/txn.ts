// Consul's KV verbs, evaluated against an overlay so a transaction applies all of its operations or none. The
// single-key writes of the KV API are one-operation runs of the same verbs, so both agree on semantics.
import type { KvEntry, Session, TxnKvOp } from './kv-types.js';
import type { KvOverlay } from './kv-view.js';

/** What one verb did: entries for the results, "refused" when its condition failed, or an error Consul raises. */
export type KvOpOutcome = { kind: 'ok'; entries: KvEntry[] } | { kind: 'refused' } | { kind: 'error'; message: string };

/** What the verbs read besides the KV table. */
export interface KvOpEnv {
  /** The index every write of this run takes (one per run, as one Raft entry in Consul). */
  index: number;
  sessions: ReadonlyMap<string, Session>;
}

const OK_NONE: KvOpOutcome = { kind: 'ok', entries: [] };
const REFUSED: KvOpOutcome = { kind: 'refused' };

function sameContent(a: KvEntry, b: KvEntry): boolean {
  return a.Flags === b.Flags && a.LockIndex === b.LockIndex && (a.Session ?? '') === (b.Session ?? '') && a.Value.equals(b.Value);
}

/** Writes `next` unless it equals what is there (an idempotent write changes nothing, not even ModifyIndex). */
function write(view: KvOverlay, existing: KvEntry | undefined, next: KvEntry): KvOpOutcome {
  if (existing && sameContent(existing, next)) return { kind: 'ok', entries: [existing] };
  view.put(next);
  return { kind: 'ok', entries: [next] };
}

function entry(op: TxnKvOp, existing: KvEntry | undefined, env: KvOpEnv, lock: { LockIndex: number; Session?: string | undefined }): KvEntry {
  const e: KvEntry = {
    Key: op.Key,
    Flags: op.Flags ?? 0,
    Value: op.Value ?? Buffer.alloc(0),
    CreateIndex: existing?.CreateIndex ?? env.index,
    ModifyIndex: env.index,
    LockIndex: lock.LockIndex,
  };
  if (lock.Session) e.Session = lock.Session;
  return e;
}

function set(view: KvOverlay, op: TxnKvOp, env: KvOpEnv): KvOpOutcome {
  const existing = view.get(op.Key);
  // A plain write keeps the lock (Consul's locks are advisory) and, here, its LockIndex.
  return write(view, existing, entry(op, existing, env, { LockIndex: existing?.LockIndex ?? 0, Session: existing?.Session }));
}

function cas(view: KvOverlay, op: TxnKvOp, env: KvOpEnv): KvOpOutcome {
  const existing = view.get(op.Key);
  const want = op.Index ?? 0;
  if (want === 0 ? existing !== undefined : existing?.ModifyIndex !== want) return REFUSED;
  return set(view, op, env);
}

function lock(view: KvOverlay, op: TxnKvOp, env: KvOpEnv): KvOpOutcome {
  const session = op.Session ?? '';
  if (session === '') return { kind: 'error', message: 'missing session' };
  if (!env.sessions.has(session)) return { kind: 'error', message: `invalid session ${JSON.stringify(session)}` };
  const existing = view.get(op.Key);
  if (existing?.Session && existing.Session !== session) return REFUSED;
  const lockIndex = existing ? (existing.Session === session ? existing.LockIndex : existing.LockIndex + 1) : 1;
  return write(view, existing, entry(op, existing, env, { LockIndex: lockIndex, Session: session }));
}

function unlock(view: KvOverlay, op: TxnKvOp, env: KvOpEnv): KvOpOutcome {
  const session = op.Session ?? '';
  if (session === '') return { kind: 'error', message: 'missing session' };
  const existing = view.get(op.Key);
  if (!existing || existing.Session !== session) return REFUSED;
  return write(view, existing, entry(op, existing, env, { LockIndex: existing.LockIndex }));
}

function deleteTree(view: KvOverlay, prefix: string): KvOpOutcome {
  for (const e of view.list(prefix)) view.remove(e.Key);
  return OK_NONE;
}

/** Runs one verb on the overlay. */
export function runKvOp(view: KvOverlay, op: TxnKvOp, env: KvOpEnv): KvOpOutcome {
  switch (op.Verb) {
    case 'set':
      return set(view, op, env);
    case 'cas':
      return cas(view, op, env);
    case 'lock':
      return lock(view, op, env);
    case 'unlock':
      return unlock(view, op, env);
    case 'get': {
      const e = view.get(op.Key);
      return e ? { kind: 'ok', entries: [e] } : { kind: 'error', message: `key ${JSON.stringify(op.Key)} doesn't exist` };
    }
    case 'get-or-empty': {
      const e = view.get(op.Key);
      if (e) return { kind: 'ok', entries: [e] };
      // Consul answers with the operation's own entry, value emptied.
      const empty: KvEntry = { Key: op.Key, Flags: op.Flags ?? 0, Value: Buffer.alloc(0), CreateIndex: 0, ModifyIndex: op.Index ?? 0, LockIndex: 0 };
      if (op.Session) empty.Session = op.Session;
      return { kind: 'ok', entries: [empty] };
    }
    case 'get-tree':
      return { kind: 'ok', entries: view.list(op.Key) };
    case 'check-index': {
      const e = view.get(op.Key);
      if (!e) return { kind: 'error', message: `failed to check index, key ${JSON.stringify(op.Key)} doesn't exist` };
      if (e.ModifyIndex !== (op.Index ?? 0)) {
        return { kind: 'error', message: `failed index check for key ${JSON.stringify(op.Key)}, current modify index ${e.ModifyIndex} != ${op.Index ?? 0}` };
      }
      return { kind: 'ok', entries: [e] };
    }
    case 'check-session': {
      const e = view.get(op.Key);
      if (!e) return { kind: 'error', message: `failed to check session, key ${JSON.stringify(op.Key)} doesn't exist` };
      if ((e.Session ?? '') !== (op.Session ?? '')) {
        return {
          kind: 'error',
          message: `failed session check for key ${JSON.stringify(op.Key)}, current session ${JSON.stringify(e.Session ?? '')} != ${JSON.stringify(op.Session ?? '')}`,
        };
      }
      return { kind: 'ok', entries: [e] };
    }
    case 'check-not-exists':
      return view.get(op.Key) ? { kind: 'error', message: `key ${JSON.stringify(op.Key)} exists` } : OK_NONE;
    case 'delete':
      view.remove(op.Key);
      return OK_NONE;
    case 'delete-tree':
      return deleteTree(view, op.Key);
    case 'delete-cas': {
      const e = view.get(op.Key);
      if (!e) return OK_NONE; // nothing to delete counts as success, as in Consul
      if (e.ModifyIndex !== (op.Index ?? 0)) return REFUSED;
      view.remove(op.Key);
      return OK_NONE;
    }
    default:
      return { kind: 'error', message: `unknown KV verb ${JSON.stringify((op as { Verb: unknown }).Verb)}` };
  }
}

/** How Consul words a refused verb inside a transaction. */
export function refusalMessage(op: TxnKvOp): string {
  const key = JSON.stringify(op.Key);
  switch (op.Verb) {
    case 'cas':
      return `failed to set key ${key}, index is stale`;
    case 'lock':
      return `failed to lock key ${key}, lock is already held`;
    case 'unlock':
      return `failed to unlock key ${key}, lock isn't held, or is held by another session`;
    case 'delete-cas':
      return `failed to delete key ${key}, index is stale`;
    default:
      return `failed to apply ${op.Verb} to key ${key}`;
  }
}

/** Consul's lock-delay refusal inside a transaction (checked for every lock op before anything runs). */
export function lockDelayMessage(key: string): string {
  return `failed to lock key ${JSON.stringify(key)} due to lock delay`;
}

/** Verbs whose results carry the value; Consul blanks it for the others. */
export function returnsValue(verb: TxnKvOp['Verb']): boolean {
  return verb === 'get' || verb === 'get-or-empty' || verb === 'get-tree';
}
