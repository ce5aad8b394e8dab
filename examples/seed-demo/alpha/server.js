// alpha: the app under test. Every request to / adds one to this host's row in the Postgres table
// host_count(hostname, count) and shows the whole table. Where the database is and how to log in come from the
// service bus's KV (postgres/host_count/{host,port,username,password,database}), watched live: change the password
// in beta and alpha reconnects, no restart.
import { createServer } from 'node:http';
import { hostname as osHostname } from 'node:os';
import { busUrl, busHeaders, describeError, watchPrefix } from './consul-kv.js';
import { createDatabase, settingsFromKv } from './database.js';
import { wantsHtml, countsHtml, errorHtml } from './render.js';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 3000);
const machine = (process.env.MR_MACHINE || osHostname()).slice(0, 127); // the table's hostname is varchar(127)
const address = `${host}:${port}`;
const bus = busUrl();
const prefix = process.env.ALPHA_KV_PREFIX ?? 'postgres/host_count/';

const log = (line) => console.log(`alpha ${machine}: ${line}`);

// A JS error in this file's own code must not take the server down with it: log it, answer 500, keep serving.
process.on('unhandledRejection', (err) => log(`unhandled rejection: ${err?.stack ?? err}`));

const db = createDatabase({ machine, log });
let busError = null; // set while the bus has never answered: there are no settings to use yet
let loaded = false;

const watch = watchPrefix({
  base: bus,
  prefix,
  headers: busHeaders(),
  onData(values) {
    const s = settingsFromKv(values, prefix);
    const wasLoaded = loaded;
    loaded = true;
    busError = null;
    if (!db.use(s)) return;
    if (s.problem) log(`${s.problem.message}; answering 503 until they are`);
    // Never the password: the user, and where.
    else if (wasLoaded) log(`credentials changed: user=${s.user}, reconnecting to database ${s.database} at ${s.host}:${s.port}`);
    else log(`database settings read from KV: user=${s.user}, database ${s.database} at ${s.host}:${s.port}`);
  },
  onError(err, failures, delay) {
    const why = describeError(err);
    if (!loaded) busError = { status: 503, code: 'ERR_BUS_UNREACHABLE', message: `service bus unreachable at ${bus}: ${why}; alpha reads its database settings from KV ${prefix}` };
    // The first failure, then the 2nd, 4th, 8th…: enough to notice, not a line every ten seconds forever.
    if ((failures & (failures - 1)) === 0) log(`service bus unreachable at ${bus} (${why}); retrying in ${(delay / 1000).toFixed(1)} s${loaded ? ', keeping the last settings' : ''}`);
  },
});

function send(res, status, type, body, extra = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-served-by': machine, ...extra });
  res.end(body);
}

function sendError(req, res, url, error) {
  if (wantsHtml(req, url)) return send(res, error.status, 'text/html; charset=utf-8', errorHtml({ host: machine, address, error }));
  send(res, error.status, 'application/json', JSON.stringify({ host: machine, error: { code: error.code, message: error.message } }) + '\n');
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://alpha');
  // /health is liveness only; /ready asks the database. The demo's check is /ready, so a database problem shows on
  // the bus (and the front door answers 503 with the check's output, which is /ready's message); until the check
  // turns critical, and for any app that checks /health, alpha's own page says what is wrong and what to do.
  if (url.pathname === '/health') return send(res, 200, 'text/plain', 'ok');
  if (url.pathname === '/ready') {
    const r = busError ? { ok: false, error: busError } : await db.check();
    return r.ok ? send(res, 200, 'text/plain', 'ready') : send(res, r.error.status, 'text/plain', `${r.error.message}\n`);
  }
  if (url.pathname !== '/') return sendError(req, res, url, { status: 404, code: 'ERR_NOT_FOUND', message: `no page at ${url.pathname}; alpha serves / (and /health, /ready)` });
  if (req.method !== 'GET') {
    res.setHeader('allow', 'GET');
    return sendError(req, res, url, { status: 405, code: 'ERR_METHOD', message: `${req.method} is not allowed on /; use GET` });
  }

  if (busError) return sendError(req, res, url, busError);
  const r = await db.countRequest(machine);
  if (!r.ok) return sendError(req, res, url, r.error);
  if (wantsHtml(req, url)) return send(res, 200, 'text/html; charset=utf-8', countsHtml({ host: machine, address, counts: r.counts, total: r.total }));
  send(res, 200, 'application/json', JSON.stringify({ host: machine, counts: r.counts, total: r.total }) + '\n');
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    log(`error answering ${req.method} ${req.url}: ${err?.stack ?? err}`);
    if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ host: machine, error: { code: 'ERR_INTERNAL', message: String(err?.message ?? err) } }) + '\n');
    else res.destroy();
  });
});
server.keepAliveTimeout = 5000;

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log(`got ${sig}, closing`);
    setTimeout(() => {
      log('requests still open after 5 s, exiting anyway');
      process.exit(0);
    }, 5000).unref();
    void watch.close();
    // Stop taking connections, let the requests in flight finish, then end the pool they use.
    server.close(async () => {
      await db.close();
      log('closed');
      process.exit(0);
    });
    server.closeIdleConnections();
  });
}

// Read KV before taking requests (or fail fast when the bus is down: then every request says so, and the watch keeps trying).
await Promise.race([watch.first, new Promise((r) => setTimeout(r, 3000).unref())]);
server.on('error', (err) => {
  log(`cannot listen on ${address}: ${err.message}`);
  process.exit(1);
});
if (!stopping) server.listen(port, host, () => log(`listening on http://${address}; database settings from KV ${prefix} on the bus at ${bus}`));
