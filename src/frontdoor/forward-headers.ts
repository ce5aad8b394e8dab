// Request and response header rewriting: hop-by-hop removal, X-Forwarded-*, Forwarded, X-Request-Id.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Copies headers without hop-by-hop ones (including those the Connection header names). */
export function stripHopByHop(headers: IncomingHttpHeaders, keepUpgrade = false): OutgoingHttpHeaders {
  const named = new Set<string>();
  const conn = headers.connection;
  if (conn) for (const token of String(conn).split(',')) named.add(token.trim().toLowerCase());
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    if (keepUpgrade && (k === 'connection' || k === 'upgrade')) {
      out[k] = v;
      continue;
    }
    if (HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

function forwardedFor(addr: string): string {
  return addr.includes(':') ? `"[${addr}]"` : addr;
}

/** Headers for the upstream request: hop-by-hop removed, forwarding headers added, request ID kept or made. */
export function buildUpstreamHeaders(req: IncomingMessage, opts: { keepUpgrade?: boolean } = {}): { headers: OutgoingHttpHeaders; requestId: string } {
  const headers = stripHopByHop(req.headers, opts.keepUpgrade ?? false);
  const client = req.socket.remoteAddress ?? '';
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const host = req.headers.host ?? '';
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
  headers['x-forwarded-proto'] = proto;
  headers['x-forwarded-host'] = host;
  const element = `for=${forwardedFor(client)};host="${host.replace(/"/g, '')}";proto=${proto}`;
  const priorForwarded = req.headers.forwarded;
  headers.forwarded = priorForwarded ? `${priorForwarded}, ${element}` : element;
  const incomingId = req.headers['x-request-id'];
  const requestId = typeof incomingId === 'string' && incomingId.length > 0 && incomingId.length <= 200 ? incomingId : randomUUID();
  headers['x-request-id'] = requestId;
  return { headers, requestId };
}

/** Serializes a request head for a raw socket (WebSocket upgrade passthrough). */
export function serializeRequestHead(method: string, path: string, headers: OutgoingHttpHeaders): string {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) head += `${k}: ${String(item).replace(/[\r\n]/g, '')}\r\n`;
  }
  return head + '\r\n';
}

/** Header names the front door sets itself on the way in (any the client sent are replaced or extended). */
const OWN_REQUEST_HEADERS = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-request-id']);

/** Names listed in Connection headers of a raw header list (lower case), or undefined when there are none. */
function connectionNamed(raw: string[]): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === 10 && k.toLowerCase() === 'connection') {
      for (const token of raw[i + 1]!.split(',')) {
        const t = token.trim().toLowerCase();
        if (t !== 'close' && t !== 'keep-alive') (named ??= new Set()).add(t);
      }
    }
  }
  return named;
}

/**
 * The upstream request's headers as a flat [name, value, ...] list (node:http sends it as is, with no per-header
 * validation or object building): the client's headers minus hop-by-hop ones, then the forwarding headers.
 */
export function upstreamRawHeaders(req: IncomingMessage): { raw: string[]; requestId: string } {
  return forwardedRaw(req);
}

/** The request head for an upstream: request line, the client's headers minus hop-by-hop ones, forwarding headers. */
export function upstreamRequestHead(req: IncomingMessage, path: string, chunked: boolean): { head: string; requestId: string } {
  const { raw, requestId } = forwardedRaw(req);
  let head = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  return { head: head + '\r\n', requestId };
}

function forwardedRaw(req: IncomingMessage): { raw: string[]; requestId: string } {
  const src = req.rawHeaders;
  const named = connectionNamed(src);
  const raw: string[] = [];
  let priorFor: string | undefined;
  let priorForwarded: string | undefined;
  let incomingId: string | undefined;
  let host = '';
  for (let i = 0; i < src.length; i += 2) {
    const k = src[i]!;
    const v = src[i + 1]!;
    const lower = k.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== undefined && named.has(lower))) continue;
    if (OWN_REQUEST_HEADERS.has(lower)) {
      if (lower === 'x-forwarded-for') priorFor = priorFor === undefined ? v : `${priorFor}, ${v}`;
      else if (lower === 'forwarded') priorForwarded = priorForwarded === undefined ? v : `${priorForwarded}, ${v}`;
      else if (lower === 'x-request-id') incomingId ??= v;
      continue;
    }
    if (lower === 'host') host = v;
    raw.push(k, v);
  }
  const client = req.socket.remoteAddress ?? '';
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const requestId = incomingId !== undefined && incomingId.length > 0 && incomingId.length <= 200 ? incomingId : randomUUID();
  const element = `for=${forwardedFor(client)};host="${host.replace(/"/g, '')}";proto=${proto}`;
  raw.push(
    'x-forwarded-for',
    priorFor === undefined ? client : `${priorFor}, ${client}`,
    'x-forwarded-proto',
    proto,
    'x-forwarded-host',
    host,
    'forwarded',
    priorForwarded === undefined ? element : `${priorForwarded}, ${element}`,
    'x-request-id',
    requestId,
  );
  return { raw, requestId };
}

/** A response's headers (a flat list) without hop-by-hop ones; whether it declared a content-length. */
export function responseRawHeaders(src: string[]): { raw: string[]; sized: boolean } {
  const named = connectionNamed(src);
  const raw: string[] = [];
  let sized = false;
  for (let i = 0; i < src.length; i += 2) {
    const k = src[i]!;
    const lower = k.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== undefined && named.has(lower))) continue;
    if (lower === 'content-length') sized = true;
    raw.push(k, src[i + 1]!);
  }
  return { raw, sized };
}
