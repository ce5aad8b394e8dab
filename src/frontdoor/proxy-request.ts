// Forwards one HTTP request to a chosen upstream, streaming both bodies, retrying connection failures elsewhere.
// This is the front door's hot path: the upstream side is a lean keep-alive client (upstream-pool.ts), headers go as
// one string each way, and a request costs two objects (the request's state and its attempt, which is the upstream
// exchange's sink) rather than a set of closures; it adds one listener ('close' on the response) and no timer unless a
// total timeout is configured.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { responseRawHeaders, upstreamRequestHead } from './forward-headers.js';
import { noteBodyBytes } from './memory.js';
import { sendBadGateway } from './pages.js';
import { beginAttempt, endAttempt, recordFailure, recordSuccess } from './upstream.js';
import type { Upstream } from './upstream.js';
import type { Exchange, ExchangeSink } from './upstream-pool.js';

/** The balancer's answer for one attempt. */
export interface UpstreamChoice {
  upstream: Upstream;
  /** Set-Cookie value pinning the client to this upstream (sticky services). */
  setCookie?: string | undefined;
}

/** What proxyRequest needs from the front door: one object per destination (service and tag), shared by its requests. */
export interface ProxyDeps {
  connectMs: number;
  idleMs: number;
  totalMs: number;
  maxFails: number;
  failTimeoutMs: number;
  /** Picks an upstream not in `excluded` for this request (its cookies may pin one), or undefined when none is left. */
  choose(excluded: ReadonlySet<string>, req: IncomingMessage): UpstreamChoice | undefined;
  /** Answers 503 (no healthy instance at all). */
  unavailable(req: IncomingMessage, res: ServerResponse, requestId: string): void;
}

/** A request being proxied, as seen by the caller (the access log reads which instance took it). */
export interface ProxiedRequestInfo {
  /** The instance of the latest attempt, if any was chosen. */
  readonly chosen: string | undefined;
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET', 'EPIPE', 'ERR_FRONTDOOR_CONNECT_TIMEOUT']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const NO_EXCLUSIONS: ReadonlySet<string> = new Set();
const kProxied = Symbol('frontdoor.proxied');

type BodyKind = 0 | 1 | 2;
const BODY_NONE: BodyKind = 0;
const BODY_SIZED: BodyKind = 1;
const BODY_CHUNKED: BodyKind = 2;

function codedError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** How the request body travels: none, as sized bytes, or re-chunked (its transfer-encoding is hop-by-hop). */
function bodyKind(req: IncomingMessage): BodyKind {
  const headers = req.headers;
  const len = headers['content-length'];
  if (len !== undefined) return Number(len) > 0 ? BODY_SIZED : BODY_NONE;
  return headers['transfer-encoding'] !== undefined ? BODY_CHUNKED : BODY_NONE;
}

/** The response's 'close' listener, shared by every request (the request's state hangs off the response). */
function onResponseClose(this: ServerResponse): void {
  const p = (this as unknown as Record<symbol, ProxiedRequest | undefined>)[kProxied];
  if (!p) return;
  if (!this.writableFinished) p.current?.abort();
  p.settle();
}

function onTotalTimeout(p: ProxiedRequest): void {
  p.current?.abort(codedError(`no complete response within ${p.deps.totalMs}ms`, 'ERR_FRONTDOOR_TOTAL_TIMEOUT'));
  if (!p.current && !p.res.headersSent) p.res.destroy();
}

class ProxiedRequest implements ProxiedRequestInfo {
  excluded = NO_EXCLUSIONS;
  bodyTouched = false;
  current: Exchange | undefined = undefined;
  lastFailure: { upstream: Upstream; err: Error } | undefined = undefined;
  done = false;
  chosen: string | undefined = undefined;
  totalTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly deps: ProxyDeps,
    readonly head: string,
    readonly requestId: string,
    readonly method: string,
    readonly body: BodyKind,
  ) {}

  settle(): void {
    this.done = true;
    if (this.totalTimer) clearTimeout(this.totalTimer);
  }

  attempt(): void {
    if (this.done) return;
    const choice = this.deps.choose(this.excluded, this.req);
    if (!choice) {
      this.settle();
      const last = this.lastFailure;
      if (last) sendBadGateway(this.req, this.res, 502, last.upstream, `${(last.err as NodeJS.ErrnoException).code ?? ''} ${last.err.message}`.trim(), this.requestId);
      else this.deps.unavailable(this.req, this.res, this.requestId);
      return;
    }
    const u = choice.upstream;
    this.chosen = u.id;
    const a = new Attempt(this, u, choice.setCookie);
    // A pooled connection reports "sent" from inside request(), before the exchange is known: the body starts after.
    const ex = u.pool.request(this.head, { chunked: this.body === BODY_CHUNKED, skipBody: this.method === 'HEAD', connectMs: this.deps.connectMs }, a);
    a.ex = ex;
    this.current = ex;
    if (a.sent) this.startBody(a);
  }

  startBody(a: Attempt): void {
    if (this.body === BODY_NONE) return;
    const req = this.req;
    const ex = a.ex!;
    if (req.readableEnded && !this.bodyTouched) {
      ex.end();
      return;
    }
    const resumeReq = (): void => {
      req.resume();
    };
    a.bodyData = (chunk: Buffer) => {
      this.bodyTouched = true;
      noteBodyBytes(chunk.length);
      if (!ex.write(chunk, resumeReq)) req.pause();
    };
    a.bodyEnd = () => ex.end();
    req.on('data', a.bodyData);
    req.once('end', a.bodyEnd);
    req.resume();
  }
}

/** One try on one upstream: the upstream exchange's sink. */
class Attempt implements ExchangeSink {
  readonly started = performance.now();
  reused = false;
  gotHead = false;
  sent = false;
  finished = false;
  ex: Exchange | undefined = undefined;
  bodyData: ((chunk: Buffer) => void) | undefined = undefined;
  bodyEnd: (() => void) | undefined = undefined;

  constructor(
    readonly p: ProxiedRequest,
    readonly u: Upstream,
    readonly setCookie: string | undefined,
  ) {
    beginAttempt(u);
  }

  /** Ends the attempt's in-flight count; safe to call more than once (close and error may both report it). */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    endAttempt(this.u);
  }

  stopBody(): void {
    const req = this.p.req;
    if (this.bodyData) req.off('data', this.bodyData);
    if (this.bodyEnd) req.off('end', this.bodyEnd);
    req.pause();
  }

  onSent(fromPool: boolean): void {
    this.reused = fromPool;
    this.sent = true;
    if (this.ex) this.p.startBody(this);
  }

  onHead(status: number, statusMessage: string, rawHeaders: string[]): void {
    this.gotHead = true;
    recordSuccess(this.u, performance.now() - this.started);
    const p = this.p;
    const res = p.res;
    if (res.destroyed) {
      this.ex?.abort();
      return;
    }
    const { raw, sized } = responseRawHeaders(rawHeaders);
    raw.push('x-request-id', p.requestId);
    if (this.setCookie) raw.push('set-cookie', this.setCookie);
    res.writeHead(status, statusMessage, raw);
    // Streamed answers (SSE, chunked) get their headers now; sized ones send them with the first chunk.
    if (!sized && p.method !== 'HEAD') res.flushHeaders();
  }

  onBody(chunk: Buffer): boolean {
    const res = this.p.res;
    if (res.write(chunk)) return true;
    const ex = this.ex;
    res.once('drain', () => ex?.resume());
    return false;
  }

  onEnd(): void {
    this.p.res.end();
    this.p.settle();
    this.finish();
  }

  onError(err: NodeJS.ErrnoException, connected: boolean): void {
    this.finish();
    const p = this.p;
    const res = p.res;
    if (p.done && !res.headersSent) return;
    if (this.gotHead || res.headersSent) {
      res.destroy();
      return;
    }
    if (res.destroyed) return;
    const u = this.u;
    const code = err.code ?? '';
    const replayable = !p.bodyTouched && CONNECT_ERRORS.has(code) && (!connected || (this.reused && IDEMPOTENT.has(p.method)));
    if (code !== 'ERR_FRONTDOOR_TOTAL_TIMEOUT') recordFailure(u, p.deps.maxFails, p.deps.failTimeoutMs, Date.now());
    if (replayable) {
      if (p.body !== BODY_NONE) this.stopBody();
      p.excluded = new Set([...p.excluded, u.id]);
      p.lastFailure = { upstream: u, err };
      p.attempt();
      return;
    }
    p.settle();
    const timeout = code.endsWith('TIMEOUT');
    sendBadGateway(p.req, res, timeout ? 504 : 502, u, `${code} ${err.message}`.trim(), p.requestId);
  }
}

/** Proxies req → an upstream chosen by deps → res. Never buffers a body. */
export function proxyRequest(req: IncomingMessage, res: ServerResponse, path: string, deps: ProxyDeps): ProxiedRequestInfo {
  const body = bodyKind(req);
  const { head, requestId } = upstreamRequestHead(req, path, body === BODY_CHUNKED);
  const p = new ProxiedRequest(req, res, deps, head, requestId, req.method ?? 'GET', body);
  if (deps.totalMs > 0) p.totalTimer = setTimeout(onTotalTimeout, deps.totalMs, p);
  (res as unknown as Record<symbol, ProxiedRequest>)[kProxied] = p;
  res.on('close', onResponseClose);
  p.attempt();
  return p;
}
