// Connection URLs handed to apps (DATABASE_URL) and shown by the CLI.
import type { PgConn } from './types.js';

/** postgres://user:password@host:port/database, every part percent-encoded, IPv6 hosts in brackets. */
export function postgresUrl(conn: PgConn): string {
  const host = conn.host.includes(':') && !conn.host.startsWith('[') ? `[${conn.host}]` : conn.host;
  const enc = encodeURIComponent;
  return `postgres://${enc(conn.user)}:${enc(conn.password)}@${host}:${conn.port}/${enc(conn.database)}`;
}
