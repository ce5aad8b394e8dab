// The control API under /v1/machineroom/: Request → Response, loopback-only, the token (or the dashboard's session
// cookie, with a same-origin Origin for changes) for mutations and secret reads.
import { timingSafeEqual } from 'node:crypto';
import { MachineroomError, httpStatusOf } from '../errors/index.js';
import type { ResolvedConfig } from '../config/index.js';
import { TOKEN_HEADER, VERSION_HEADER } from '../client/index.js';
import type { MachineRoom, DatabaseAction } from '../client/index.js';
import { bufferedResponse, checkOrigin } from '../http/index.js';
import type { Handler } from '../http/index.js';


function json(status: number, body: unknown, version: string): Response {
  return bufferedResponse(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', [VERSION_HEADER]: version } });
}

function errorResponse(err: unknown, version: string): Response {
  if (err instanceof MachineroomError) return json(httpStatusOf(err.code), { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) }, version);
  return json(500, { code: 'ERR_INTERNAL', message: (err as Error)?.message ?? String(err) }, version);
}

function ndjson<T>(iter: AsyncIterable<T>, version: string): Response {
  const encoder = new TextEncoder();
  const it = iter[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await it.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(JSON.stringify(value) + '\n'));
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel() {
      await it.return?.();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', [VERSION_HEADER]: version } });
}

async function readJson<T>(req: Request): Promise<T> {
  try {
    return (await req.json()) as T;
  } catch {
    throw new MachineroomError('ERR_BAD_REQUEST', 'the request body must be JSON');
  }
}

function numberParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new MachineroomError('ERR_BAD_REQUEST', `${name}: expected a number >= 0, got "${v}"`);
  return n;
}

/** Compares tokens in constant time. */
function tokenMatches(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A route mounted beside the built-in ones (the dashboard's): whether it needs credentials, and its handler. */
export interface ControlRoute {
  auth: boolean;
  /** `authenticated`: the request carried the token or the session (routes without auth may still use it). */
  handle(req: Request, url: URL, rest: string[], authenticated: boolean): Promise<Response>;
}

/** What the control API serves. */
export interface ControlApiOptions {
  room: MachineRoom;
  token: string;
  version: string;
  /** Whether a request carries the dashboard's session cookie, which counts as the token (changes also need Origin). */
  hasSession?: (req: Request) => boolean;
  /** More routes by "METHOD name" (name: the first path segment after /v1/machineroom/). */
  routes?: Record<string, ControlRoute>;
}

type Credential = 'token' | 'session' | undefined;

/** Builds the control API handler over a machine room. */
export function createControlApi(opts: ControlApiOptions): Handler {
  const { room, token, version } = opts;
  const routes: Record<string, (req: Request, url: URL, rest: string[]) => Promise<Response>> = {
    'GET version': async () => json(200, await room.info(), version),
    'GET status': async () => json(200, await room.status(), version),
    'PUT config': async (req) => json(200, await room.apply(await readJson<ResolvedConfig>(req)), version),
    'POST scale': async (req) => {
      const body = await readJson<Record<string, number>>(req);
      await room.scale(body);
      return json(200, { ok: true }, version);
    },
    'POST restart': async (req) => json(200, { restarted: await room.restart((await readJson<{ target: string }>(req)).target) }, version),
    'POST stop': async (req) => {
      await room.stopService((await readJson<{ service: string }>(req)).service);
      return json(200, { ok: true }, version);
    },
    'POST start': async (req) => {
      await room.startService((await readJson<{ service: string }>(req)).service);
      return json(200, { ok: true }, version);
    },
    'GET logs': async (req, url) => {
      const targets = url.searchParams.getAll('target');
      const tail = numberParam(url, 'tail');
      const since = numberParam(url, 'since');
      const follow = url.searchParams.has('follow');
      return ndjson(room.logs({ targets, follow, ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since } : {}) }, req.signal), version);
    },
    'GET events': async (req, url) => ndjson(room.events({ follow: url.searchParams.has('follow') }, req.signal), version),
    'GET env': async (_req, _url, rest) => json(200, await room.instanceEnv(rest[0] ?? ''), version),
    'POST run': async (req) => json(200, await room.runLease((await readJson<{ service: string }>(req)).service), version),
    'DELETE run': async (_req, _url, rest) => {
      await room.releaseRun(rest[0] ?? '');
      return json(200, { ok: true }, version);
    },
    'GET traffic': async () => json(200, await room.traffic(), version),
    // Answers carry database passwords: POST, so the token is always needed.
    'POST db': async (req) => json(200, await room.database(await readJson<DatabaseAction>(req)), version),
    'POST shutdown': async () => {
      await room.shutdown();
      return json(202, { ok: true }, version);
    },
  };
  // Reads that expose secrets (an instance's environment) need the token too.
  const needsToken = (method: string, route: string) => method !== 'GET' || route === 'env';
  const credentialOf = (req: Request): Credential => (tokenMatches(req.headers.get(TOKEN_HEADER), token) ? 'token' : opts.hasSession?.(req) ? 'session' : undefined);
  /** The token or the session; a change made with the session must say where it comes from (checkOrigin vetted it). */
  const authorize = (req: Request, credential: Credential): void => {
    if (credential === undefined) {
      throw new MachineroomError('ERR_UNAUTHORIZED', `this call needs the control token (header ${TOKEN_HEADER}; the CLI reads it from .machineroom/token) or a dashboard session (open the link \`machineroom dashboard\` prints)`);
    }
    if (credential === 'session' && req.method !== 'GET' && req.method !== 'HEAD' && req.headers.get('origin') === null) {
      throw new MachineroomError('ERR_FORBIDDEN', `refused: a change made with the dashboard's session cookie must carry an Origin header (browsers send one); scripts use the token header ${TOKEN_HEADER} instead`);
    }
  };
  return async (req) => {
    try {
      const bad = checkOrigin(req);
      if (bad) throw bad;
      const url = new URL(req.url);
      const prefix = '/v1/machineroom/';
      if (!url.pathname.startsWith(prefix)) throw new MachineroomError('ERR_NOT_FOUND', `no such endpoint ${url.pathname}; the control API lives under ${prefix}`);
      let parts: string[];
      try {
        parts = url.pathname.slice(prefix.length).split('/').map(decodeURIComponent);
      } catch {
        throw new MachineroomError('ERR_BAD_REQUEST', `the path ${url.pathname} has a malformed percent-encoding`);
      }
      const [route = '', ...rest] = parts;
      const key = `${req.method} ${route}`;
      const fn = routes[key];
      const extra = opts.routes?.[key];
      if (!fn && !extra) {
        const allowed = [...Object.keys(routes), ...Object.keys(opts.routes ?? {})].filter((k) => k.endsWith(` ${route}`));
        if (allowed.length) throw new MachineroomError('ERR_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}; use ${allowed.map((k) => k.split(' ')[0]).join(' or ')}`);
        throw new MachineroomError('ERR_NOT_FOUND', `no such endpoint ${url.pathname}`);
      }
      const credential = credentialOf(req);
      if (extra) {
        if (extra.auth) authorize(req, credential);
        return await extra.handle(req, url, rest, credential !== undefined);
      }
      if (needsToken(req.method, route)) authorize(req, credential);
      return await fn!(req, url, rest);
    } catch (err) {
      return errorResponse(err, version);
    }
  };
}
