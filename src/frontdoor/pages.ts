// The front door's own answers: the route index, 404 for unknown hosts, 503 with no healthy instance, 502 naming the instance.
import type { ServerResponse, IncomingMessage } from 'node:http';
import type { RouteInfo } from './types.js';

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function wantsJson(req: IncomingMessage): boolean {
  const accept = String(req.headers.accept ?? '');
  if (!accept.includes('json')) return false;
  const json = accept.search(/application\/(?:[\w.+-]*\+)?json/);
  const html = accept.indexOf('text/html');
  return html === -1 || (json !== -1 && json < html);
}

/** The scheme and port the client used, so route links point back at this front door. */
function origin(req: IncomingMessage): { scheme: string; port: string } {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const host = req.headers.host ?? '';
  const m = /:(\d+)$/.exec(host.startsWith('[') ? host.slice(host.indexOf(']') + 1) : host);
  const port = m ? m[1]! : String(req.socket.localPort ?? '');
  const usual = (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443') || port === '';
  return { scheme, port: usual ? '' : `:${port}` };
}

function routeList(req: IncomingMessage, routes: RouteInfo[]): string {
  const { scheme, port } = origin(req);
  const rows = routes.map((r) => {
    const hosts = r.hosts.map((h) => `<a href="${scheme}://${escapeHtml(h)}${port}/">${escapeHtml(h)}</a>`).join('<br>');
    return `<tr><td>${escapeHtml(r.service)}${r.tag ? ` <small>[tag ${escapeHtml(r.tag)}]</small>` : ''}</td><td>${hosts}</td><td>${escapeHtml(r.paths.join(' '))}${r.strip ? ' (strip)' : ''}</td><td>${r.passing}/${r.instances}</td></tr>`;
  });
  return `<table><thead><tr><th>service</th><th>hosts</th><th>paths</th><th>passing</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>\n`;
}

function send(req: IncomingMessage, res: ServerResponse, status: number, html: string, json: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const asJson = wantsJson(req);
  const body = asJson ? JSON.stringify(json) + '\n' : html;
  res.writeHead(status, { 'content-type': asJson ? 'application/json' : 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** machineroom.localhost: every route. */
export function sendIndex(req: IncomingMessage, res: ServerResponse, routes: RouteInfo[]): void {
  send(req, res, 200, page('machineroom front door', routeList(req, routes)), { routes });
}

/** Unknown host: 404 listing the known routes. */
export function sendUnknownHost(req: IncomingMessage, res: ServerResponse, host: string, routes: RouteInfo[]): void {
  const message = `no route for host "${host}"`;
  send(req, res, 404, page('404 — unknown host', `<p>${escapeHtml(message)}. Known routes:</p>${routeList(req, routes)}`), { error: message, host, routes });
}

/** What a 503 reports about a service with no instance to send to. */
export interface UnavailableInfo {
  service: string;
  tag?: string;
  instances: number;
  passing: number;
  lastCheck?: { checkId: string; serviceId: string; status: string; output: string };
}

/** No passing (or no selectable) instance. */
export function sendUnavailable(req: IncomingMessage, res: ServerResponse, info: UnavailableInfo, requestId: string): void {
  const name = info.tag ? `${info.tag}.${info.service}` : info.service;
  const message = `service "${name}" has no passing instance (${info.passing} of ${info.instances} passing)`;
  const check = info.lastCheck ? `<p>last check ${escapeHtml(info.lastCheck.checkId)} (${escapeHtml(info.lastCheck.serviceId)}) is ${escapeHtml(info.lastCheck.status)}:</p><pre>${escapeHtml(info.lastCheck.output)}</pre>` : '';
  send(req, res, 503, page('503 — service unavailable', `<p>${escapeHtml(message)}</p>${check}`), { error: message, ...info, requestId }, { 'x-request-id': requestId, 'retry-after': '1' });
}

/** The chosen instance failed (connect, reset, timeout). */
export function sendBadGateway(req: IncomingMessage, res: ServerResponse, status: 502 | 504, instance: { id: string; address: string; port: number }, reason: string, requestId: string): void {
  const where = `${instance.id} at ${instance.address}:${instance.port}`;
  const message = `${status === 504 ? 'upstream timed out' : 'upstream failed'}: instance ${where}: ${reason}`;
  send(req, res, status, page(`${status} — ${status === 504 ? 'gateway timeout' : 'bad gateway'}`, `<p>${escapeHtml(message)}</p>`), { error: message, instance: instance.id, address: `${instance.address}:${instance.port}`, reason, requestId }, { 'x-request-id': requestId });
}
