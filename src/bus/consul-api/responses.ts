// Building answers the way Consul's HTTP server writes them: minimised (or ?pretty) JSON, query-meta headers, text errors.
import { describeError } from './consul-error.js';
import { bufferedResponse } from '../../http/index.js';

/** The read metadata Consul reports in headers (X-Consul-Index, -KnownLeader, -LastContact, -Effective-Consistency). */
export interface QueryMeta {
  index: number;
  consistency?: string;
}

const GO_ESCAPES = /[<>&\u2028\u2029]/g;

/** Serialises as Go's encoding/json does: HTML-sensitive characters escaped; ?pretty indents by four spaces. */
export function encodeJson(body: unknown, pretty: boolean): string {
  const text = pretty ? JSON.stringify(body, null, 4) + '\n' : JSON.stringify(body);
  return (text ?? 'null').replace(GO_ESCAPES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The headers of a read: the index (never 0, as Consul clamps it to 1), a known leader, no staleness. */
export function metaHeaders(meta: QueryMeta): Record<string, string> {
  return {
    'X-Consul-Index': String(Math.max(1, Math.floor(meta.index))),
    'X-Consul-KnownLeader': 'true',
    'X-Consul-LastContact': '0',
    ...(meta.consistency ? { 'X-Consul-Effective-Consistency': meta.consistency } : {}),
  };
}

/** A JSON answer. */
export function jsonResponse(body: unknown, opts: { pretty: boolean; status?: number; meta?: QueryMeta; headers?: Record<string, string> }): Response {
  return bufferedResponse(encodeJson(body, opts.pretty), {
    status: opts.status ?? 200,
    headers: { 'Content-Type': 'application/json', ...(opts.meta ? metaHeaders(opts.meta) : {}), ...opts.headers },
  });
}

/** An answer with no body (Consul's agent writes answer 200 with nothing). */
export function emptyResponse(status = 200, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

/** A text/plain answer: how Consul reports every error. */
export function textResponse(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers } });
}

/** The answer for anything thrown below the handler: Consul's status and wording as text. */
export function errorResponse(err: unknown): Response {
  const { status, message, headers } = describeError(err);
  return textResponse(status, message, headers);
}
