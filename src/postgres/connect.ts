// One pg client per use, with the timeouts and the error listener every caller needs (an unhandled 'error' event from
// a client whose server went away would end the process).
import type pg from 'pg';
import type { PgConn } from './types.js';

/** A connected client; call end() when done (safe after errors). */
export type PgClient = pg.Client;

// Loaded on first use: the daemon starts faster when the project has no database (and before its first probe).
let pgModule: Promise<typeof pg> | undefined;
function loadPg(): Promise<typeof pg> {
  pgModule ??= import('pg').then((m) => m.default);
  return pgModule;
}

/** Loads the client library ahead of the first connection. */
export async function warmUp(): Promise<void> {
  await loadPg();
}

/** Connects as `conn`, giving up after `connectTimeoutMs`; statements are cancelled after `statementTimeoutMs` when given. */
export async function connectClient(conn: PgConn, opts: { connectTimeoutMs: number; statementTimeoutMs?: number }): Promise<PgClient> {
  const { Client } = await loadPg();
  const client = new Client({
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    database: conn.database,
    connectionTimeoutMillis: Math.max(1, Math.round(opts.connectTimeoutMs)),
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs, query_timeout: opts.statementTimeoutMs + 1000 } : {}),
    application_name: 'machineroom',
  });
  client.on('error', () => {
    /* reported to the pending query or connect instead */
  });
  try {
    await client.connect();
  } catch (err) {
    await closeClient(client);
    throw err;
  }
  return client;
}

/** Ends a client, ignoring errors (the connection may already be gone). */
export async function closeClient(client: PgClient): Promise<void> {
  try {
    await client.end();
  } catch {
    /* already closed */
  }
}

/** The message of a pg or socket error, with its SQLSTATE or errno code. */
export function describePgError(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const message = e?.message || String(err);
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}
