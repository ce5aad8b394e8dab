// Forwards one HTTP request to a chosen upstream, streaming both bodies, retrying connection failures elsewhere.
import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { buildUpstreamHeaders, stripHopByHop } from './forward-headers.js';
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
  const { headers, requestId } = buildUpstreamHeaders(req);
  const withBody = hasRequestBody(req);
  const excluded = new Set<string>();
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
    req.off('data', markTouched);
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
    const up = httpRequest({ host: u.address, port: u.port, method: req.method, path, headers, agent: u.agent });
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
    up.on('socket', (sock: Socket) => {
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
    if (deps.idleMs > 0) up.setTimeout(deps.idleMs, () => up.destroy(codedError(`no data for ${deps.idleMs}ms`, 'ERR_FRONTDOOR_IDLE_TIMEOUT')));

    up.on('response', (ur: IncomingMessage) => {
      gotResponse = true;
      clearTimeout(connectTimer);
      recordSuccess(u, performance.now() - started);
      const out = stripHopByHop(ur.headers);
      out['x-request-id'] = requestId;
      if (choice.setCookie) {
        const prior = out['set-cookie'];
        out['set-cookie'] = [...(Array.isArray(prior) ? prior : prior === undefined ? [] : [String(prior)]), choice.setCookie];
      }
      if (res.destroyed) {
        up.destroy();
        return;
      }
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, out);
      // Streamed answers (SSE, chunked) get their headers now; sized ones send them with the first chunk.
      if (ur.headers['content-length'] === undefined) res.flushHeaders();
      ur.pipe(res);
      ur.on('data', countChunk);
      ur.on('error', () => res.destroy());
      ur.on('aborted', () => res.destroy());
      ur.on('end', () => {
        settle();
        finish();
      });
    });
    up.on('close', finish);
    up.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      finish();
      if (done && !res.headersSent) return;
      if (gotResponse || res.headersSent) {
        res.destroy();
        return;
      }
      if (res.destroyed) return;
      const code = err.code ?? '';
      const replayable = !bodyTouched && CONNECT_ERRORS.has(code) && (!connected || (reused && IDEMPOTENT.has(req.method ?? 'GET')));
      if (code !== 'ERR_FRONTDOOR_TOTAL_TIMEOUT') recordFailure(u, deps.maxFails, deps.failTimeoutMs, Date.now());
      if (replayable) {
        if (withBody) {
          req.unpipe(up);
          req.pause();
          req.off('data', markTouched);
        }
        excluded.add(u.id);
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
