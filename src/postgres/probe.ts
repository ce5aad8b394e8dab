// The postgres health check: one `select 1` as an app role, reported like a Consul check's output.
import { closeClient, connectClient, describePgError } from './connect.js';
import type { PgConn } from './types.js';

/** Runs one check within `timeoutMs`; never throws. */
export async function probePostgres(conn: PgConn, timeoutMs: number): Promise<{ status: 'passing' | 'critical'; output: string }> {
  const host = conn.host.includes(':') ? `[${conn.host}]` : conn.host;
  const label = `postgres ${host}:${conn.port} db=${conn.database} user=${conn.user}`;
  const started = performance.now();
  // The attempt bounds itself (connect and statement timeouts) and always closes its client, even after losing the race.
  const attempt = (async () => {
    const client = await connectClient(conn, { connectTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs });
    try {
      await client.query('select 1');
      return performance.now() - started;
    } finally {
      await closeClient(client);
    }
  })();
  attempt.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs + 100);
  });
  try {
    const ms = await Promise.race([attempt, deadline]);
    return { status: 'passing', output: `${label}: ok (${Math.round(ms)} ms)` };
  } catch (err) {
    return { status: 'critical', output: `${label}: ${describePgError(err)}` };
  } finally {
    clearTimeout(timer);
  }
}
