// alpha's database: the settings read from KV, a pg.Pool for them (replaced, and the old one ended, whenever they
// change), the count query, and every failure turned into a status, a stable code and a message that says what to do.
import pg from 'pg';

/** How long connecting may take, and how long a statement may run, before the request is answered with an error. */
const CONNECT_TIMEOUT_MS = 2000;
const STATEMENT_TIMEOUT_MS = 3000;
/** A last guard so that no request waits on the database for longer than this, whatever the driver does. */
const REQUEST_DEADLINE_MS = 6000;

// One round trip, one statement, so the table shown always includes this very request: the CTE's INSERT bumps this
// host's row, and since the outer SELECT sees the table as it was before the statement, the other hosts come from
// the table and this host from the INSERT's RETURNING.
const COUNT_SQL = `
WITH bumped AS (
  INSERT INTO host_count (hostname, count) VALUES ($1::varchar, 1)
  ON CONFLICT (hostname) DO UPDATE SET count = COALESCE(host_count.count, 0) + 1
  RETURNING hostname, count
)
SELECT hostname, count FROM host_count WHERE hostname <> $1::varchar
UNION ALL
SELECT hostname, count FROM bumped
ORDER BY hostname`;

/** What KV says about the database: where it is (host/port fall back to the env machineroom gives), and as whom. */
export function settingsFromKv(values, prefix, env = process.env) {
  const settings = {
    host: values.host || env.DATABASE_HOST || '127.0.0.1',
    port: Number(values.port || env.DATABASE_PORT || 5432),
    database: values.database || prefix.split('/').filter(Boolean).pop() || 'host_count',
    user: values.username || '',
    password: values.password || '',
    problem: null,
  };
  const missing = ['username', 'password'].filter((k) => !values[k]);
  if (missing.length > 0) {
    const keys = missing.length === 2 ? `${prefix}username and password are` : `${prefix}${missing[0]} is`;
    settings.problem = {
      status: 503,
      code: 'ERR_CREDENTIALS_NOT_SET',
      message: `database credentials are not set: KV ${keys} missing (set ${missing.length === 2 ? 'them' : 'it'} in beta)`,
    };
  } else if (!Number.isInteger(settings.port) || settings.port < 1 || settings.port > 65535) {
    settings.problem = { status: 503, code: 'ERR_SETTINGS_INVALID', message: `KV ${prefix}port is not a port number: ${JSON.stringify(values.port)}` };
  }
  return settings;
}

/** The error's own words; a failed connect to a name with several addresses is an AggregateError with no message. */
function messageOf(err) {
  return err?.message || (Array.isArray(err?.errors) ? err.errors.map((e) => e.message).join('; ') : '') || err?.code || String(err);
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EADDRNOTAVAIL']);

/** Turns a failure of pg (or the socket under it) into { status, code, message }; the message names the user or the address. */
export function classifyError(err, s) {
  const where = `${s.host}:${s.port}`;
  const code = typeof err?.code === 'string' ? err.code : '';
  const msg = messageOf(err);
  // 28P01 invalid_password (also what the server says for an unknown user, so as not to reveal which users exist);
  // 28000 invalid_authorization_specification (no pg_hba.conf entry, role may not log in).
  if (code === '28P01' || code === '28000') return { status: 503, code: 'ERR_CREDENTIALS_REJECTED', message: `database rejected the credentials for user ${s.user}: ${msg}` };
  if (code === '3D000') return { status: 503, code: 'ERR_DATABASE_MISSING', message: `database ${s.database} does not exist at ${where}: ${msg}` };
  if (code === '42P01') return { status: 503, code: 'ERR_TABLE_MISSING', message: `table host_count does not exist in database ${s.database}: ${msg} (create it with examples/seed-demo/sql/host_count.sql)` };
  if (code === '42501') return { status: 503, code: 'ERR_DATABASE_PERMISSION', message: `user ${s.user} may not use table host_count in database ${s.database}: ${msg}` };
  if (code === '57014') return { status: 503, code: 'ERR_DATABASE_TIMEOUT', message: `database at ${where} did not finish the query within ${STATEMENT_TIMEOUT_MS / 1000} s: ${msg}` };
  // Class 08 connection exceptions, 57P0x shutting down / starting up, socket errors, and pg's own timeouts
  // ("timeout exceeded when trying to connect", "Connection terminated unexpectedly", "Query read timeout").
  if (UNREACHABLE_CODES.has(code) || /^(08|57P)/.test(code) || /timeout|terminated|connection ended|not queryable/i.test(msg)) {
    return { status: 503, code: 'ERR_DATABASE_UNREACHABLE', message: `database unreachable at ${where}: ${msg}` };
  }
  return { status: 500, code: 'ERR_DATABASE', message: `database error at ${where} (user ${s.user}, database ${s.database}): ${msg}${code ? ` [${code}]` : ''}` };
}

function withDeadline(promise, ms) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms / 1000} s`), { code: 'ETIMEDOUT' })), ms);
  });
  promise.catch(() => {}); // if the deadline wins, the driver's later failure is already answered
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** alpha's connection to PostgreSQL: use(settings) when KV changes, countRequest() per request, close() at exit. */
export function createDatabase({ machine, log }) {
  let settings = null;
  let pool = null;
  let identity = '';

  function createPool(s) {
    const p = new pg.Pool({
      host: s.host,
      port: s.port,
      database: s.database,
      user: s.user,
      password: s.password,
      application_name: `alpha ${machine}`.slice(0, 63),
      max: 4,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 10_000,
      // The server cancels a statement after 3 s; the client gives up half a second later in case the server cannot.
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS + 500,
      keepAlive: true,
    });
    // An idle client whose server went away (restart, fast shutdown) emits 'error' on the pool; without a listener
    // that would crash the process. The pool drops that client and the next request connects afresh.
    p.on('error', (err) => log(`idle database connection to ${s.host}:${s.port} lost: ${messageOf(err)}`));
    return p;
  }

  async function run(sql, params) {
    const s = settings;
    if (!s) return { ok: false, error: { status: 503, code: 'ERR_SETTINGS_UNKNOWN', message: 'database settings have not been read from the service bus yet' } };
    if (s.problem) return { ok: false, error: s.problem };
    const p = pool;
    try {
      const res = await withDeadline(p.query(sql, params), REQUEST_DEADLINE_MS);
      return { ok: true, rows: res.rows };
    } catch (err) {
      // The settings changed while this request was on its way: the old pool is ending, so ask the new one.
      if (p !== pool && /after calling end/i.test(messageOf(err))) return run(sql, params);
      return { ok: false, error: classifyError(err, s) };
    }
  }

  return {
    /** Takes new settings; true when they differ from the last (the pool was replaced and the old one is ending). */
    use(next) {
      settings = next;
      const nextIdentity = JSON.stringify([next.host, next.port, next.database, next.user, next.password, next.problem?.code ?? null]);
      if (nextIdentity === identity) return false;
      identity = nextIdentity;
      const old = pool;
      pool = next.problem ? null : createPool(next);
      old?.end().catch((err) => log(`closing the previous database pool: ${messageOf(err)}`));
      return true;
    },
    /** Counts one request for `hostname` and returns the whole table, or the error to answer with. */
    async countRequest(hostname) {
      const r = await run(COUNT_SQL, [hostname]);
      if (!r.ok) return r;
      const counts = r.rows.map((row) => ({ hostname: row.hostname, count: Number(row.count ?? 0) }));
      return { ok: true, counts, total: counts.reduce((sum, c) => sum + c.count, 0) };
    },
    /** Whether the database answers with the current settings (for /ready). */
    async check() {
      const r = await run('SELECT 1', []);
      return r.ok ? { ok: true } : r;
    },
    /** Ends the pool (waits for clients in use to be released). */
    async close() {
      const p = pool;
      pool = null;
      settings = null;
      identity = '';
      await p?.end().catch(() => {});
    },
  };
}
