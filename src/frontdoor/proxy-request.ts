// Forwards one HTTP request to a chosen upstream, streaming both bodies, retrying connection failures elsewhere.
// This is the front door's hot path: the upstream side is a lean keep-alive client (upstream-pool.ts), headers go as
// flat lists, and a request adds as few listeners and timers as it can.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { responseRawHeaders, upstreamRequestHead } from './forward-headers.js';
import { noteBodyBytes } from './memory.js';
import { sendBadGateway } from './pages.js';
import { openAttempt, recordFailure, recordSuccess } from './upstream.js';
import type { Upstream } from './upstream.js';
import type { Exchange } from './upstream-pool.js';

/** The balancer's answer for one attempt. */
export interface UpstreamChoice {
  upstream: Upstream;
  /** Set-Cookie value pinning the client to this upstream (sticky services). */
  setCookie?: string | undefined;
}

/** What proxyRequest needs from the front door. */
export interface ProxyDeps {
  connectMs: number;
  idleMs: number;
  totalMs: number;
  maxFails: number;
  failTimeoutMs: number;
  /** Picks an upstream not in `excluded`, or undefined when none is left. */
  choose(excluded: ReadonlySet<string>): UpstreamChoice | undefined;
  /** Answers 503 (no healthy instance at all). */
  unavailable(requestId: string): void;
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET', 'EPIPE', 'ERR_FRONTDOOR_CONNECT_TIMEOUT']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const NO_EXCLUSIONS: ReadonlySet<string> = new Set();

function codedError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** How the request body travels: none, as sized bytes, or re-chunked (its transfer-encoding is hop-by-hop). */
function bodyKind(req: IncomingMessage): 'none' | 'sized' | 'chunked' {
  const len = req.headers['content-length'];
  if (len !== undefined) return Number(len) > 0 ? 'sized' : 'none';
  return req.headers['transfer-encoding'] !== undefined ? 'chunked' : 'none';
}

/** Proxies req → an upstream chosen by deps → res. Never buffers a body. */
export function proxyRequest(req: IncomingMessage, res: ServerResponse, path: string, deps: ProxyDeps): void {
  const body = bodyKind(req);
  const withBody = body !== 'none';
  const { head, requestId } = upstreamRequestHead(req, path, { chunked: body === 'chunked' });
  const method = req.method ?? 'GET';
  let excluded = NO_EXCLUSIONS;
  let bodyTouched = false;
  let current: Exchange | undefined;
  let lastFailure: { upstream: Upstream; err: Error } | undefined;
  let done = false;

  const totalTimer =
    deps.totalMs > 0
      ? setTimeout(() => {
          current?.abort(codedError(`no complete response within ${deps.totalMs}ms`, 'ERR_FRONTDOOR_TOTAL_TIMEOUT'));
          if (!current && !res.headersSent) res.destroy();
        }, deps.totalMs)
      : undefined;
  const settle = (): void => {
    done = true;
    if (totalTimer) clearTimeout(totalTimer);
  };
  res.on('close', () => {
    if (!res.writableFinished) current?.abort();
    settle();
  });

  const attempt = (): void => {
    if (done) return;
    const choice = deps.choose(excluded);
    if (!choice) {
      settle();
      if (lastFailure) sendBadGateway(req, res, 502, lastFailure.upstream, `${(lastFailure.err as NodeJS.ErrnoException).code ?? ''} ${lastFailure.err.message}`.trim(), requestId);
      else deps.unavailable(requestId);
      return;
    }
    const u = choice.upstream;
    const finish = openAttempt(u);
    const started = performance.now();
    let reused = false;
    let gotHead = false;
    let onData: ((chunk: Buffer) => void) | undefined;
    let onEnd: (() => void) | undefined;
    const stopBody = (): void => {
      if (onData) req.off('data', onData);
      if (onEnd) req.off('end', onEnd);
      req.pause();
    };
    // A pooled connection reports "sent" from inside request(), before `ex` is assigned: the body starts after.
    let ex: Exchange | undefined;
    let sent = false;
    const resumeUpstream = (): void => ex?.resume();
    const startBody = (ex: Exchange): void => {
      if (!withBody) return;
      if (req.readableEnded && !bodyTouched) {
        ex.end();
        return;
      }
      const resumeReq = (): void => {
        req.resume();
      };
      onData = (chunk: Buffer) => {
        bodyTouched = true;
        noteBodyBytes(chunk.length);
        if (!ex.write(chunk, resumeReq)) req.pause();
      };
      onEnd = () => ex.end();
      req.on('data', onData);
      req.once('end', onEnd);
      req.resume();
    };

    ex = u.pool.request(head, { chunked: body === 'chunked', skipBody: method === 'HEAD', connectMs: deps.connectMs }, {
      onSent(fromPool) {
        reused = fromPool;
        sent = true;
        if (ex) startBody(ex);
      },
      onHead(status, statusMessage, rawHeaders) {
        gotHead = true;
        recordSuccess(u, performance.now() - started);
        if (res.destroyed) {
          ex?.abort();
          return;
        }
        const { raw, sized } = responseRawHeaders(rawHeaders);
        raw.push('x-request-id', requestId);
        if (choice.setCookie) raw.push('set-cookie', choice.setCookie);
        res.writeHead(status, statusMessage, raw);
        // Streamed answers (SSE, chunked) get their headers now; sized ones send them with the first chunk.
        if (!sized && method !== 'HEAD') res.flushHeaders();
      },
      onBody(chunk) {
        if (res.write(chunk)) return true;
        res.once('drain', resumeUpstream);
        return false;
      },
      onEnd() {
        res.end();
        settle();
        finish();
      },
      onError(err, connected) {
        finish();
        if (done && !res.headersSent) return;
        if (gotHead || res.headersSent) {
          res.destroy();
          return;
        }
        if (res.destroyed) return;
        const code = err.code ?? '';
        const replayable = !bodyTouched && CONNECT_ERRORS.has(code) && (!connected || (reused && IDEMPOTENT.has(method)));
        if (code !== 'ERR_FRONTDOOR_TOTAL_TIMEOUT') recordFailure(u, deps.maxFails, deps.failTimeoutMs, Date.now());
        if (replayable) {
          if (withBody) stopBody();
          excluded = new Set([...excluded, u.id]);
          lastFailure = { upstream: u, err };
          attempt();
          return;
        }
        settle();
        const timeout = code.endsWith('TIMEOUT');
        sendBadGateway(req, res, timeout ? 504 : 502, u, `${code} ${err.message}`.trim(), requestId);
      },
    });
    current = ex;
    if (sent) startBody(ex);
  };
  attempt();
}
