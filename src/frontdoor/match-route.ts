// Maps a request's Host and path to a service (and optional tag and prefix to strip).
import type { RouteConfig } from './types.js';

/** Where a request goes: a service, maybe a tag filter, maybe a rewritten path; or the index page; or nowhere. */
export type RouteMatch =
  | { kind: 'service'; service: string; tag?: string; path: string }
  | { kind: 'index' }
  | { kind: 'none'; host: string };

/** The reserved host of the dashboard (proxied to the daemon's control listener when the front door has one). */
export const DASHBOARD_HOST = 'machineroom.localhost';

/** Hosts that name the front door itself: its route index, unless a host-less path route claims the path. */
const INDEX_HOSTS = new Set([DASHBOARD_HOST, 'localhost', '127.0.0.1', '[::1]']);

/** Lower-cases a Host header and drops its port and trailing dot. */
export function normalizeHost(host: string | undefined): string {
  let h = (host ?? '').trim().toLowerCase();
  if (h.startsWith('[')) h = h.slice(0, h.indexOf(']') + 1);
  else if (h.includes(':')) h = h.slice(0, h.indexOf(':'));
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.endsWith('/') && prefix.length > 1 ? prefix.slice(0, -1) : prefix;
  if (p === '/' || p === '') return true;
  return path === p || path.startsWith(p + '/') || path.startsWith(p + '?');
}

function stripPrefix(prefix: string, path: string): string {
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const rest = path.slice(p.length);
  return rest === '' ? '/' : rest.startsWith('?') ? '/' + rest : rest;
}

/** Longest matching path prefix among routes, or a host-only route (prefix length 0). */
function bestConfigured(routes: RouteConfig[], path: string): { route: RouteConfig; prefix: string } | undefined {
  let best: { route: RouteConfig; prefix: string } | undefined;
  for (const route of routes) {
    const paths = route.paths && route.paths.length > 0 ? route.paths : route.hosts && route.hosts.length > 0 ? [''] : [];
    for (const prefix of paths) {
      if (prefix !== '' && !prefixMatches(prefix, path)) continue;
      if (!best || prefix.length > best.prefix.length) best = { route, prefix };
    }
  }
  return best;
}

function toMatch(found: { route: RouteConfig; prefix: string }, path: string): RouteMatch {
  const rewritten = found.route.strip && found.prefix ? stripPrefix(found.prefix, path) : path;
  return { kind: 'service', service: found.route.service, path: rewritten };
}

/**
 * Resolves a request: routes naming this host first, then the generated host forms
 * (<svc>.localhost, <svc>.<project>.localhost, [<tag>.]<svc>.service.<domain>), then host-less path routes.
 */
export function matchRoute(
  hostHeader: string | undefined,
  path: string,
  ctx: { routes: RouteConfig[]; project: string; domain: string; resolveService: (label: string) => string | undefined },
): RouteMatch {
  const host = normalizeHost(hostHeader);
  const onHost = ctx.routes.filter((r) => r.hosts?.some((h) => normalizeHost(h) === host));
  const hostHit = bestConfigured(onHost, path);
  if (hostHit) return toMatch(hostHit, path);
  if (INDEX_HOSTS.has(host)) {
    const anyHost = bestConfigured(ctx.routes.filter((r) => !r.hosts || r.hosts.length === 0), path);
    return anyHost ? toMatch(anyHost, path) : { kind: 'index' };
  }
  const generated = matchGeneratedHost(host, ctx);
  if (generated) return generated.tag === undefined ? { kind: 'service', service: generated.service, path } : { kind: 'service', service: generated.service, tag: generated.tag, path };
  const anyHost = bestConfigured(ctx.routes.filter((r) => !r.hosts || r.hosts.length === 0), path);
  return anyHost ? toMatch(anyHost, path) : { kind: 'none', host };
}

/**
 * The generated host forms alone, for a normalised host: <svc>.localhost, <svc>.<project>.localhost and
 * [<tag>.]<svc>.service.<domain>. Their answer does not depend on the path.
 */
export function matchGeneratedHost(
  host: string,
  ctx: { project: string; domain: string; resolveService: (label: string) => string | undefined },
): { service: string; tag?: string } | undefined {
  if (host === DASHBOARD_HOST) return undefined;
  const labels = host.split('.');
  const domainLabels = ctx.domain.split('.');
  const tail = labels.slice(labels.length - domainLabels.length).join('.');
  if (tail === ctx.domain && labels[labels.length - domainLabels.length - 1] === 'service') {
    const head = labels.slice(0, labels.length - domainLabels.length - 1);
    const svc = head.length === 1 || head.length === 2 ? ctx.resolveService(head[head.length - 1]!) : undefined;
    if (svc !== undefined && head.length === 1) return { service: svc };
    if (svc !== undefined && head.length === 2) return { service: svc, tag: head[0]! };
  }
  const local = labels[labels.length - 1] === 'localhost' && (labels.length === 2 || (labels.length === 3 && labels[1] === ctx.project)) ? ctx.resolveService(labels[0]!) : undefined;
  return local === undefined ? undefined : { service: local };
}
