// The contract of the bus's key/value store and sessions (Consul semantics), shared by the store, its persistence,
// the Consul HTTP API and the CLI. Writes resolve only once they are durable (the WAL is fsynced).

/** A stored key, as Consul's KV API returns it (Value is raw bytes here; the API renders base64, or null when empty). */
export interface KvEntry {
  Key: string;
  Flags: number;
  Value: Buffer;
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  /** The session holding the lock, when held. */
  Session?: string;
}

/** Options of a KV write (mutually exclusive as in Consul: flags may combine with one of cas/acquire/release). */
export interface KvSetOptions {
  flags?: number;
  /** 0: only if the key does not exist; n: only if its ModifyIndex is n. */
  cas?: number;
  acquire?: string;
  release?: string;
}

/** Options of a KV delete. */
export interface KvDeleteOptions {
  recurse?: boolean;
  /** Delete only if ModifyIndex matches (must be > 0 to ever delete). */
  cas?: number;
}

/** A session, as Consul's session API returns it. */
export interface Session {
  ID: string;
  Name: string;
  Node: string;
  LockDelay: number; // nanoseconds, as Consul returns it
  Behavior: 'release' | 'delete';
  TTL: string; // "" or like "30s"
  NodeChecks: string[];
  ServiceChecks: { ID: string; Namespace?: string }[] | null;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Input to create a session. */
export interface SessionInput {
  Name?: string;
  Node?: string;
  LockDelay?: string | number;
  Behavior?: 'release' | 'delete';
  TTL?: string;
  NodeChecks?: string[];
  Checks?: string[];
  ServiceChecks?: { ID: string }[];
}

/** One KV operation of a transaction (Consul's /v1/txn "KV" verbs). */
export interface TxnKvOp {
  Verb: 'set' | 'cas' | 'lock' | 'unlock' | 'get' | 'get-or-empty' | 'get-tree' | 'check-index' | 'check-session' | 'check-not-exists' | 'delete' | 'delete-tree' | 'delete-cas';
  Key: string;
  Value?: Buffer;
  Flags?: number;
  Index?: number;
  Session?: string;
}

/** A transaction's outcome: results for the read/write verbs, or the errors that rolled it back. */
export type TxnResult = { ok: true; results: KvEntry[] } | { ok: false; errors: { OpIndex: number; What: string }[] };

/** The KV store. Reads are synchronous from memory; writes resolve after the write-ahead log is synced. */
export interface KvStore {
  get(key: string): KvEntry | undefined;
  /** Entries whose key starts with `prefix`, sorted by key. */
  list(prefix: string): KvEntry[];
  /** Keys under `prefix`, rolled up at the first `separator` after the prefix when one is given. */
  keys(prefix: string, separator?: string): string[];
  /** X-Consul-Index for a single-key read: its ModifyIndex, or (missing) the KV table's highest index including deletions. */
  indexOfKey(key: string): number;
  /** X-Consul-Index for a prefix read: the highest ModifyIndex of entries and deletions under the prefix, else the table's. */
  indexOfPrefix(prefix: string): number;
  set(key: string, value: Buffer, opts?: KvSetOptions): Promise<boolean>;
  delete(key: string, opts?: KvDeleteOptions): Promise<boolean>;
  txn(ops: TxnKvOp[]): Promise<TxnResult>;
}

/** Sessions: TTL, behavior on invalidation, lock-delay. */
export interface SessionStore {
  create(input: SessionInput): Promise<Session>;
  destroy(id: string): Promise<boolean>;
  /** Resets the TTL; undefined when the session does not exist (Consul answers 404). */
  renew(id: string): Promise<Session | undefined>;
  info(id: string): Session | undefined;
  list(): Session[];
  node(node: string): Session[];
  /** Highest index of the sessions table (for X-Consul-Index). */
  index(): number;
}

/** Durable records of registrations made through the API (not by the supervisor), replayed after a restart. */
export interface RegistrationStore {
  put(id: string, record: unknown): Promise<void>;
  delete(id: string): Promise<void>;
  all(): { id: string; record: unknown }[];
}
