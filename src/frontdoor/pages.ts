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
  if (routes.length === 0) return '<p class="muted">No service is registered yet.</p>';
  const rows = routes.map((r) => {
    // Browsers resolve *.localhost by themselves; bus names (.consul) need the bus's DNS, so they are shown, not linked.
    const hosts = r.hosts
      .map((h) => (h === 'localhost' || h.endsWith('.localhost') ? `<a href="${scheme}://${escapeHtml(h)}${port}/">${escapeHtml(h)}${port}</a>` : `<code>${escapeHtml(h)}</code>`))
      .join('<br>');
    const health = r.instances === 0 ? 'none' : r.passing === r.instances ? 'ok' : r.passing === 0 ? 'down' : 'part';
    return `<tr><td><strong>${escapeHtml(r.service)}</strong>${r.tag ? ` <span class="tag">${escapeHtml(r.tag)}</span>` : ''}</td><td>${hosts}</td><td>${r.paths.length ? `<code>${escapeHtml(r.paths.join(' '))}</code>${r.strip ? ' (stripped)' : ''}` : '<span class="muted">any</span>'}</td><td><span class="health ${health}">${r.passing}/${r.instances} passing</span></td></tr>`;
  });
  return `<table><thead><tr><th scope="col">Service</th><th scope="col">Hosts</th><th scope="col">Paths</th><th scope="col">Instances</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** One small stylesheet for every page: readable, light and dark. */
const STYLE = `:root{color-scheme:light dark;--fg:#1d232a;--muted:#667085;--line:#d8dde3;--ok:#1a7f37;--bad:#c62828;--part:#b26a00;--accent:#0b62d6}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ee;--muted:#98a2b3;--line:#30363d;--ok:#3fb950;--bad:#f85149;--part:#d29922;--accent:#58a6ff}}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);margin:2rem auto;max-width:60rem;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 1rem}a{color:var(--accent)}code,pre{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{white-space:pre-wrap;border:1px solid var(--line);border-radius:6px;padding:.6rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.45rem .6rem;border-bottom:1px solid var(--line)}
th{font-weight:600;color:var(--muted)}.muted{color:var(--muted)}.tag{font-size:12px;border:1px solid var(--line);border-radius:9px;padding:0 .45rem}
.health.ok{color:var(--ok)}.health.down{color:var(--bad)}.health.part{color:var(--part)}footer{margin-top:1.5rem;color:var(--muted);font-size:13px}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main><footer>machineroom front door</footer></body></html>\n`;
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

/** The front door's own host names (localhost, or machineroom.localhost without a daemon): every route. */
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
