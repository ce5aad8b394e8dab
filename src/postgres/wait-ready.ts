// Readiness of a freshly started server: poll a superuser connection until `select version()` answers.
import { setTimeout as sleep } from 'node:timers/promises';
import { MachineroomError } from '../errors/index.js';
import { closeClient, connectClient, describePgError } from './connect.js';
import type { PgClient } from './connect.js';
import { readPostmasterStatus } from './postmaster-pid.js';
import type { PgConn } from './types.js';

const RETRY_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EADDRNOTAVAIL', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Errors a starting server gives: nothing listening yet, "the database system is starting up" (57P03), timeouts. */
export function isStartingUpError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e?.code && (RETRY_ERRNO.has(e.code) || e.code === '57P03')) return true;
  return /starting up|not yet accepting connections|Connection terminated|timeout/i.test(e?.message ?? '');
}

/**
 * Polls every 20 ms until the server answers `select version()`; resolves with that client still connected (close it).
 * With `dataDir` (and `pid`, the postmaster's), it first waits, as pg_ctl does, for postmaster.pid to say "ready"
 * (read every 10 ms): an attempt while the server starts costs it a backend fork only to hear "starting up". When the
 * file cannot be read, it polls by connecting alone.
 */
export async function connectWhenReady(conn: PgConn, deadline: number, opts: { signal?: AbortSignal; dataDir?: string; pid?: number } = {}): Promise<{ client: PgClient; version: string }> {
  let last: unknown;
  const where = `postgres at ${conn.host}:${conn.port}`;
  if (opts.dataDir !== undefined) await waitPostmaster(opts.dataDir, deadline, { ...opts, until: 'ready' });
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new MachineroomError('ERR_TIMEOUT', `${where} did not become ready in time: ${last === undefined ? 'no attempt finished' : describePgError(last)}`, { cause: last });
    }
    if (opts.signal?.aborted) throw new MachineroomError('ERR_UNHEALTHY', `${where}: stopped waiting (${String(opts.signal.reason ?? 'aborted')})`, { cause: opts.signal.reason });
    try {
      const client = await connectClient(conn, { connectTimeoutMs: Math.min(1000, remaining) });
      try {
        const r = await client.query<{ version: string }>('select version()');
        return { client, version: r.rows[0]?.version ?? '' };
      } catch (err) {
        await closeClient(client);
        throw err;
      }
    } catch (err) {
      if (!isStartingUpError(err)) {
        throw new MachineroomError('ERR_UNHEALTHY', `${where} answered, but as ${conn.user}@${conn.database}: ${describePgError(err)}`, { cause: err });
      }
      last = err;
    }
    await sleep(Math.min(20, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Waits, reading postmaster.pid every 10 ms (as pg_ctl does, without connecting), until the server (`pid` when given)
 * has written it (`until: 'written'`) or says it is ready or a standby accepting reads (`until: 'ready'`); true then.
 * False when the file cannot be read by this user, when `pid` has exited, at the deadline, or on abort.
 */
export async function waitPostmaster(dataDir: string, deadline: number, opts: { until: 'written' | 'ready'; signal?: AbortSignal; pid?: number }): Promise<boolean> {
  while (Date.now() < deadline && !opts.signal?.aborted) {
    const st = readPostmasterStatus(dataDir);
    if (st === 'unreadable') return false;
    if (st && (opts.pid === undefined || st.pid === opts.pid) && (opts.until === 'written' || st.status === 'ready' || st.status === 'standby')) return true;
    if (opts.pid !== undefined && !isAlive(opts.pid)) return false;
    await sleep(Math.min(10, Math.max(0, deadline - Date.now())));
  }
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls every 20 ms until the server answers, returning `select version()`; throws at the deadline with the last error. */
export async function waitReady(conn: PgConn, deadline: number, opts: { signal?: AbortSignal } = {}): Promise<string> {
  const { client, version } = await connectWhenReady(conn, deadline, opts);
  await closeClient(client);
  return version;
}
