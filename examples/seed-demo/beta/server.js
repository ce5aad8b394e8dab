// beta: the prototype's developer page. It shows and sets alpha's database credentials, the KV keys
// postgres/host_count/username and .../password, through the service bus's Consul HTTP API.
//
//   GET    /                  the page (works without JavaScript: its form POSTs to / itself)
//   GET    /api/credentials   {"username": "app" | null, "passwordSet": true}
//   PUT    /api/credentials   {"username"?: "...", "password"?: "..."} (JSON whatever the content-type) → the new state; POST too
//   DELETE /api/credentials   removes both keys → the new state
//   GET    /health            200 "ok"
// Errors are {"error": {"code", "message"}}: 400 for a bad request, 502 when the bus cannot be reached or fails.
import { createServer } from 'node:http';
import { createKv } from './consul-kv.js';
import { credentialsPage } from './page.js';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 3000);
const prefix = process.env.BETA_KV_PREFIX ?? 'postgres/host_count/';
const kv = createKv();
const log = (line) => console.log(`beta ${process.env.MR_MACHINE ?? ''}: ${line}`.replace(/ +:/, ':'));
const MAX_BODY = 16 * 1024;

/** A request beta refuses, with the message to show. */
class BadRequest extends Error {
  constructor(message, status = 400, code = 'ERR_BAD_REQUEST') {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function readState() {
  const values = await kv.readPrefix(prefix);
  return { username: values.username || null, passwordSet: Boolean(values.password) };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        // Answer 413 at once; the rest of the body is read and dropped so the answer can still be sent.
        reject(new BadRequest(`request body is larger than ${MAX_BODY / 1024} KiB`, 413, 'ERR_TOO_LARGE'));
        req.removeAllListeners('data');
        req.resume();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Checks {username?, password?}: strings, not empty, at least one; returns the KV changes to make. */
function validate(input) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new BadRequest('expected a JSON object like {"username": "app", "password": "secret"}');
  const unknown = Object.keys(input).filter((k) => k !== 'username' && k !== 'password');
  if (unknown.length > 0) throw new BadRequest(`unknown field ${JSON.stringify(unknown[0])}: expected "username" and/or "password"`);
  if (input.username === undefined && input.password === undefined) throw new BadRequest('nothing to set: give "username", "password" or both');
  const changes = {};
  if (input.username !== undefined) {
    if (typeof input.username !== 'string') throw new BadRequest(`"username" must be a string, got ${JSON.stringify(input.username)}`);
    const username = input.username.trim();
    if (username === '') throw new BadRequest('"username" must not be empty');
    if (Buffer.byteLength(username) > 63) throw new BadRequest('"username" is longer than 63 bytes, the most PostgreSQL allows for a role name');
    if (/[\u0000-\u001f\u007f]/.test(username)) throw new BadRequest('"username" must not contain control characters');
    changes[`${prefix}username`] = username;
  }
  if (input.password !== undefined) {
    if (typeof input.password !== 'string') throw new BadRequest('"password" must be a string');
    if (input.password === '') throw new BadRequest('"password" must not be empty (to remove the credentials, DELETE /api/credentials)');
    if (input.password.length > 1024) throw new BadRequest('"password" is longer than 1024 characters');
    if (input.password.includes('\u0000')) throw new BadRequest('"password" must not contain NUL characters');
    changes[`${prefix}password`] = input.password;
  }
  return changes;
}

function sendJson(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value) + '\n');
}

function sendHtml(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

const errorBody = (err) => ({ error: { code: err.code ?? 'ERR_INTERNAL', message: err.message } });

async function handleCredentials(req, res) {
  if (req.method === 'GET') return sendJson(res, 200, await readState());
  if (req.method === 'DELETE') {
    await kv.change({ [`${prefix}username`]: null, [`${prefix}password`]: null });
    log('credentials removed from KV');
    return sendJson(res, 200, await readState());
  }
  if (req.method !== 'PUT' && req.method !== 'POST') {
    res.setHeader('allow', 'GET, PUT, POST, DELETE');
    throw new BadRequest(`${req.method} is not allowed on /api/credentials`, 405, 'ERR_METHOD');
  }
  const text = await readBody(req);
  if (text.trim() === '') throw new BadRequest('request body is empty: send JSON like {"username": "app", "password": "secret"}');
  let input;
  try {
    input = JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`request body is not valid JSON: ${err.message}`);
  }
  await save(validate(input));
  return sendJson(res, 200, await readState());
}

/** The page's form posted without JavaScript (urlencoded): save, then back to the page; an empty password keeps the current one. */
async function handleForm(req, res) {
  const form = new URLSearchParams(await readBody(req));
  try {
    await save(validate({ username: form.get('username') ?? undefined, password: form.get('password') || undefined }));
  } catch (err) {
    if (!err.status) throw err;
    return sendHtml(res, err.status, credentialsPage({ prefix, bus: kv.base, state: await readState().catch(() => null), error: err.message }));
  }
  res.writeHead(303, { location: '/?saved=1' });
  res.end();
}

async function save(changes) {
  await kv.change(changes);
  // Which keys changed, never their values' secrets.
  const what = Object.keys(changes).map((k) => (k.endsWith('/username') ? `username=${changes[k]}` : 'password'));
  log(`set ${what.join(', ')} in KV ${prefix}`);
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://beta');
  if (url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok');
  }
  if (url.pathname === '/api/credentials') return handleCredentials(req, res);
  if (url.pathname === '/' && req.method === 'GET') {
    let state = null;
    let error = null;
    try {
      state = await readState();
    } catch (err) {
      error = err.message;
    }
    return sendHtml(res, 200, credentialsPage({ prefix, bus: kv.base, state, error, notice: url.searchParams.has('saved') ? 'Saved: alpha reconnects with the new credentials.' : null }));
  }
  if (url.pathname === '/' && req.method === 'POST') return handleForm(req, res);
  throw new BadRequest(`no page at ${req.method} ${url.pathname}; beta serves /, /api/credentials and /health`, 404, 'ERR_NOT_FOUND');
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!err.status) log(`error answering ${req.method} ${req.url}: ${err.stack ?? err}`);
    if (res.headersSent) return res.destroy();
    sendJson(res, err.status ?? 500, errorBody(err));
  });
});
server.keepAliveTimeout = 5000;
server.on('error', (err) => {
  log(`cannot listen on ${host}:${port}: ${err.message}`);
  process.exit(1);
});
server.listen(port, host, () => log(`listening on http://${host}:${port}; credentials in KV ${prefix} on the bus at ${kv.base}`));

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
    server.close(() => {
      log('closed');
      process.exit(0);
    });
    server.closeIdleConnections();
  });
}
