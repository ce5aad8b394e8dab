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
