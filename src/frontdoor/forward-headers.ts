// Request and response header rewriting: hop-by-hop removal, X-Forwarded-*, Forwarded, X-Request-Id.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function forwardedFor(addr: string): string {
  return addr.includes(':') ? `"[${addr}]"` : addr;
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

/** The last Forwarded element built, by client, host and scheme: a process sees the same few over and over. */
let lastElement = { client: '', host: '', proto: '', value: '' };

function forwardedElement(client: string, host: string, proto: string): string {
  const last = lastElement;
  if (last.client === client && last.host === host && last.proto === proto) return last.value;
  const value = `for=${forwardedFor(client)};host="${host.includes('"') ? host.replace(/"/g, '') : host}";proto=${proto}`;
  lastElement = { client, host, proto, value };
  return value;
}

/**
 * The request head for an upstream: request line, the client's headers minus hop-by-hop ones (an upgrade keeps
 * Connection and Upgrade), then the forwarding headers and the request id (the client's, or a new one), built as one
 * string in one pass over the client's raw headers.
 */
export function upstreamRequestHead(req: IncomingMessage, path: string, chunked = false, keepUpgrade = false): { head: string; requestId: string } {
  const src = req.rawHeaders;
  const named = connectionNamed(src);
  let head = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\n`;
  let priorFor: string | undefined;
  let priorForwarded: string | undefined;
  let incomingId: string | undefined;
  let host = '';
  for (let i = 0; i < src.length; i += 2) {
    const k = src[i]!;
    const v = src[i + 1]!;
    const lower = k.toLowerCase();
    const kept = keepUpgrade && (lower === 'connection' || lower === 'upgrade');
    if (!kept && (HOP_BY_HOP.has(lower) || (named !== undefined && named.has(lower)))) continue;
    if (OWN_REQUEST_HEADERS.has(lower)) {
      if (lower === 'x-forwarded-for') priorFor = priorFor === undefined ? v : `${priorFor}, ${v}`;
      else if (lower === 'forwarded') priorForwarded = priorForwarded === undefined ? v : `${priorForwarded}, ${v}`;
      else if (lower === 'x-request-id') incomingId ??= v;
      continue;
    }
    if (lower === 'host') host = v;
    head += `${k}: ${v}\r\n`;
  }
  const client = req.socket.remoteAddress ?? '';
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const requestId = incomingId !== undefined && incomingId.length > 0 && incomingId.length <= 200 ? incomingId : randomUUID();
  const element = forwardedElement(client, host, proto);
  head +=
    `x-forwarded-for: ${priorFor === undefined ? client : `${priorFor}, ${client}`}\r\n` +
    `x-forwarded-proto: ${proto}\r\nx-forwarded-host: ${host}\r\n` +
    `forwarded: ${priorForwarded === undefined ? element : `${priorForwarded}, ${element}`}\r\n` +
    `x-request-id: ${requestId}\r\n`;
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  return { head: head + '\r\n', requestId };
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
