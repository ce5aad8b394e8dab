// The shapes the postgres domain trades in: engines, the server's user, connections and database specs.

/** Which binaries run a managed server: the npm platform package or the machine's own PostgreSQL. */
export type ManagedEngineKind = 'embedded' | 'system';

/** The unprivileged account the server runs as when machineroom runs as root (postgres refuses root). */
export interface PgUser {
  name: string;
  uid: number;
  gid: number;
}

/** Located binaries: what to run and the variables they need. */
export interface PgEngine {
  kind: ManagedEngineKind;
  /** From `postgres --version`, e.g. "18.4". */
  version: string;
  major: number;
  /** Absolute directory holding `initdb` and `postgres`. */
  binDir: string;
  /** Variables to merge over the base environment when running the binaries (LD_LIBRARY_PATH for embedded, LC_ALL=C). */
  env: Record<string, string>;
}

/** Where and as whom to connect. */
export interface PgConn {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** One database to provision, from config. */
export interface DatabaseSpec {
  name: string;
  /** The owner role apps log in as. */
  user: string;
  password: string;
  /** Absolute .sql files run once, in order, as the owner when the database is created. */
  init: string[];
  /** Absolute directory: *.sql applied in name order, bookkept in schema_migrations, each file in a transaction. */
  migrations?: string;
}

/** What provision did for one database. */
export interface ProvisionResult {
  name: string;
  created: boolean;
  /** Migration versions (file names) applied by this call, in order. */
  applied: string[];
}
