// Forwards one HTTP request to a chosen upstream, streaming both bodies, retrying connection failures elsewhere.
// This is the front door's hot path: headers travel as flat lists, and each request adds as few listeners and timers
// as it can (the idle timeout is the pooled socket's own, set once by its agent).
import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { responseRawHeaders, upstreamRawHeaders } from './forward-headers.js';
import { noteBodyBytes } from './memory.js';
import { sendBadGateway } from './pages.js';
import { beginAttempt, endAttempt, recordFailure, recordSuccess } from './upstream.js';
import type { Upstream } from './upstream.js';

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

const countChunk = (chunk: Buffer): void => noteBodyBytes(chunk.length);

function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Whether a request carries a body we must stream (and so cannot replay once read). */
function hasRequestBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return Number(len) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/** Proxies req → an upstream chosen by deps → res. Never buffers a body. */
export function proxyRequest(req: IncomingMessage, res: ServerResponse, path: string, deps: ProxyDeps): void {
  const { raw: headers, requestId } = upstreamRawHeaders(req);
  const withBody = hasRequestBody(req);
  const method = req.method ?? 'GET';
  let excluded = NO_EXCLUSIONS;
  let bodyTouched = false;
  let current: ClientRequest | undefined;
  let lastFailure: { upstream: Upstream; err: Error } | undefined;
  let done = false;
  const markTouched = (): void => {
    bodyTouched = true;
  };

  const totalTimer =
    deps.totalMs > 0
      ? setTimeout(() => {
          current?.destroy(codedError(`no complete response within ${deps.totalMs}ms`, 'ERR_FRONTDOOR_TOTAL_TIMEOUT'));
          if (!current && !res.headersSent) res.destroy();
        }, deps.totalMs)
      : undefined;
  const settle = (): void => {
    done = true;
    if (totalTimer) clearTimeout(totalTimer);
    if (withBody) req.off('data', markTouched);
  };
  res.on('close', () => {
    if (!res.writableFinished) current?.destroy();
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
    beginAttempt(u);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      endAttempt(u);
    };
    const started = performance.now();
    let connected = false;
    let reused = false;
    let gotResponse = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const up = httpRequest({ host: u.address, port: u.port, method, path, headers, agent: u.agent });
    current = up;

    const startBody = (): void => {
      if (!withBody || (req.readableEnded && !bodyTouched)) up.end();
      else {
        // Listening for data only once piping: an earlier listener would start the flow and lose chunks.
        req.pipe(up);
        req.once('data', markTouched);
        req.on('data', countChunk);
      }
    };
    up.once('socket', (sock: Socket) => {
      if (sock.connecting) {
        connectTimer = setTimeout(() => up.destroy(codedError(`connect timed out after ${deps.connectMs}ms`, 'ERR_FRONTDOOR_CONNECT_TIMEOUT')), deps.connectMs);
        sock.once('connect', () => {
          clearTimeout(connectTimer);
          connected = true;
          startBody();
        });
      } else {
        connected = true;
        reused = true;
        startBody();
      }
    });
    // The pooled socket's idle timeout (set once by its agent) fires here while this request owns it.
    up.once('timeout', () => up.destroy(codedError(`no data for ${deps.idleMs}ms`, 'ERR_FRONTDOOR_IDLE_TIMEOUT')));

    up.once('response', (ur: IncomingMessage) => {
      gotResponse = true;
      if (connectTimer) clearTimeout(connectTimer);
      recordSuccess(u, performance.now() - started);
      if (res.destroyed) {
        up.destroy();
        return;
      }
      const { raw, sized } = responseRawHeaders(ur);
      raw.push('x-request-id', requestId);
      if (choice.setCookie) raw.push('set-cookie', choice.setCookie);
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, raw);
      // Streamed answers (SSE, chunked) get their headers now; sized ones send them with the first chunk.
      if (!sized) res.flushHeaders();
      const resume = (): void => {
        ur.resume();
      };
      ur.on('data', (chunk: Buffer) => {
        noteBodyBytes(chunk.length);
        if (!res.write(chunk)) {
          ur.pause();
          res.once('drain', resume);
        }
      });
      ur.once('end', () => {
        res.end();
        settle();
        finish();
      });
      ur.once('error', () => res.destroy());
      ur.once('aborted', () => res.destroy());
    });
    up.once('close', finish);
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (connectTimer) clearTimeout(connectTimer);
      finish();
      if (done && !res.headersSent) return;
      if (gotResponse || res.headersSent) {
        res.destroy();
        return;
      }
      if (res.destroyed) return;
      const code = err.code ?? '';
      const replayable = !bodyTouched && CONNECT_ERRORS.has(code) && (!connected || (reused && IDEMPOTENT.has(method)));
      if (code !== 'ERR_FRONTDOOR_TOTAL_TIMEOUT') recordFailure(u, deps.maxFails, deps.failTimeoutMs, Date.now());
      if (replayable) {
        if (withBody) {
          req.unpipe(up);
          req.pause();
          req.off('data', markTouched);
          req.off('data', countChunk);
        }
        excluded = new Set([...excluded, u.id]);
        lastFailure = { upstream: u, err };
        attempt();
        return;
      }
      settle();
      const timeout = code.endsWith('TIMEOUT');
      sendBadGateway(req, res, timeout ? 504 : 502, u, `${code} ${err.message}`.trim(), requestId);
    });
  };
  attempt();
}
