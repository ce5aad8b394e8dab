// One front door process's proxy: routing, balancing and forwarding over a RoutingState it is handed (from the bus in
// the daemon, over IPC in a proxy worker). Balancer state, passive health and counters are per process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createLogger } from '../log/index.js';
import { createBalancer } from './balancer.js';
import { DASHBOARD_HOST, matchGeneratedHost, matchRoute, normalizeHost } from './match-route.js';
import type { RouteMatch } from './match-route.js';
import { sendIndex, sendUnavailable, sendUnknownHost } from './pages.js';
import type { UnavailableInfo } from './pages.js';
import { proxyRequest } from './proxy-request.js';
import type { ProxyDeps, UpstreamChoice } from './proxy-request.js';
import { proxyUpgrade, refuseUpgrade } from './proxy-upgrade.js';
import { proxyTcp } from './proxy-tcp.js';
import { readCookie } from './read-cookie.js';
import { accessLogged } from './routing-state.js';
import type { RoutingState } from './routing-state.js';
import { createRoutingTable } from './routing-table.js';
import { closeIdleSockets, isSelectable, recentLatencies } from './upstream.js';
import type { Upstream } from './upstream.js';
import type { AccessEntry, BalancerKind, FrontDoorTimeouts, InstanceStats, RouteInfo } from './types.js';

const log = createLogger('frontdoor');

/** Settings a front door process runs with (the same in every process). */
export interface CoreOptions {
  project: string;
  domain: string;
  balancer: BalancerKind;
  sticky: Record<string, string>;
  timeouts: Required<FrontDoorTimeouts>;
  maxFails: number;
  failTimeoutMs: number;
}

/** One process's counters for one instance, with its recent latencies (ms to headers) in place of quantiles; the daemon merges them across processes. */
export type RawInstanceStats = Omit<InstanceStats, 'p50' | 'p99'> & { latencies: Float64Array };

/** A front door process's handlers. */
export interface FrontDoorCore {
  /** Routes by Host and path. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A service address: every request goes to one service (no Host routing). */
  handleServiceRequest(service: string, req: IncomingMessage, res: ServerResponse): void;
  handleServiceUpgrade(service: string, req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A TCP service address: the connection is forwarded whole to one instance. */
  handleTcp(service: string, socket: Socket): void;
  apply(state: RoutingState): void;
  readonly state: RoutingState;
  /** Resolves true when this process has nothing in flight to the instance, false when the timeout passed first. */
  awaitIdle(id: string, timeoutMs: number): Promise<boolean>;
  routes(): RouteInfo[];
  rawStats(): RawInstanceStats[];
  close(): void;
}

/** Counts a service's instances, and those not critical, optionally with a tag. */
function countOf(state: RoutingState, service: string, tag?: string): { instances: number; passing: number } {
  const svc = state.services.find((s) => s.name === service);
  const all = (svc?.instances ?? []).filter((i) => tag === undefined || i.tags.some((t) => t.toLowerCase() === tag));
  return { instances: all.length, passing: all.filter((i) => i.status !== 'critical').length };
}

/** Every route the state implies: configured ones, then each service's generated host forms. */
export function routesOf(state: RoutingState, project: string, domain: string): RouteInfo[] {
  const out: RouteInfo[] = [];
  for (const r of state.routes) {
    out.push({ service: r.service, hosts: (r.hosts ?? []).map((h) => h.toLowerCase()), paths: r.paths ?? [], strip: r.strip ?? false, ...countOf(state, r.service) });
  }
  for (const svc of [...state.services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const name = svc.name;
    const lower = name.toLowerCase();
    out.push({ service: name, hosts: [`${lower}.localhost`, `${lower}.${project}.localhost`, `${lower}.service.${domain}`], paths: [], strip: false, ...countOf(state, name) });
    const tags = [...new Set(svc.instances.flatMap((i) => i.tags.map((t) => t.toLowerCase())))].sort();
    for (const tag of tags) out.push({ service: name, tag, hosts: [`${tag}.${lower}.service.${domain}`], paths: [], strip: false, ...countOf(state, name, tag) });
  }
  return out;
}

/** Where requests for one service (and tag) go: the proxy's settings and callbacks for it. */
interface Destination extends ProxyDeps {
  service: string;
  tag: string | undefined;
  /** The daemon's own control listener (the dashboard): never access-logged, takes no upgrades. */
  internal?: true;
}

/** Creates one process's front door. */
export function createFrontDoorCore(opts: CoreOptions, onAccess?: (entry: AccessEntry) => void): FrontDoorCore {
  const table = createRoutingTable({ idleMs: opts.timeouts.idleMs });
  const balancer = createBalancer(opts.balancer);
  const upgrades = new Set<Duplex>();
  let closed = false;
  const ctx = {
    routes: table.state.routes,
    project: opts.project,
    domain: opts.domain,
    resolveService: (label: string) => table.resolveService(label),
  };

  /** Picks an upstream of a service (optionally with a tag) not in `excluded`; a sticky cookie may pin one. */
  const choose = (service: string, tag: string | undefined, cookieHeader: string | undefined, excluded: ReadonlySet<string>): UpstreamChoice | undefined => {
    const all = table.healthy(service, tag);
    // The common case first: every instance selectable, none excluded: the list itself is the candidates.
    let now = 0;
    let candidates: Upstream[] | undefined = all;
    for (let i = 0; i < all.length; i++) {
      const u = all[i]!;
      if (u.draining || (excluded.size !== 0 && excluded.has(u.id))) {
        candidates = undefined;
        break;
      }
      if (u.ejectedUntil !== 0) {
        if (now === 0) now = Date.now();
        if (u.ejectedUntil > now) {
          candidates = undefined;
          break;
        }
      }
    }
    if (candidates === undefined) {
      if (now === 0) now = Date.now();
      candidates = [];
      let live = 0;
      for (const u of all) {
        if (u.draining || excluded.has(u.id)) continue;
        live++;
        if (isSelectable(u, now)) candidates.push(u);
      }
      // Every remaining instance ejected by passive health: try them anyway rather than fail outright (panic mode).
      if (candidates.length === 0) {
        if (live === 0) return undefined;
        candidates = all.filter((u) => !u.draining && !excluded.has(u.id));
      }
    } else if (candidates.length === 0) return undefined;
    const cookieName = opts.sticky[service];
    if (cookieName) {
      const pinned = readCookie(cookieHeader, cookieName);
      const hit = pinned === undefined ? undefined : candidates.find((u) => u.id === pinned);
      if (hit) return { upstream: hit };
      const upstream = balancer.pick(service, candidates);
      return { upstream, setCookie: `${cookieName}=${encodeURIComponent(upstream.id)}; Path=/; HttpOnly; SameSite=Lax` };
    }
    return { upstream: candidates.length === 1 ? candidates[0]! : balancer.pick(service, candidates) };
  };

  const chooser =
    (service: string, tag: string | undefined, cookieHeader: string | undefined) =>
    (excluded: ReadonlySet<string>): UpstreamChoice | undefined =>
      choose(service, tag, cookieHeader, excluded);

  const unavailableInfo = (service: string, tag?: string): UnavailableInfo => {
    const info: UnavailableInfo = { service, ...countOf(table.state, service, tag), ...(tag === undefined ? {} : { tag }) };
    const last = table.service(service)?.lastCheck;
    if (last) info.lastCheck = last;
    return info;
  };

  /** One destination's proxy settings and callbacks, made once and shared by all its requests. */
  const makeDestination = (service: string, tag: string | undefined): Destination => ({
    service,
    tag,
    connectMs: opts.timeouts.connectMs,
    idleMs: opts.timeouts.idleMs,
    totalMs: opts.timeouts.totalMs,
    maxFails: opts.maxFails,
    failTimeoutMs: opts.failTimeoutMs,
    choose: (excluded, req) => choose(service, tag, req.headers.cookie, excluded),
    unavailable: (req, res, requestId) => sendUnavailable(req, res, unavailableInfo(service, tag), requestId),
  });
  // machineroom.localhost: the daemon's control listener, one upstream (the dashboard, its stream and the API).
  const controlDestination: Destination = {
    service: 'machineroom',
    tag: undefined,
    internal: true,
    connectMs: opts.timeouts.connectMs,
    idleMs: opts.timeouts.idleMs,
    totalMs: 0,
    maxFails: opts.maxFails,
    failTimeoutMs: opts.failTimeoutMs,
    choose: (excluded) => {
      const u = table.control();
      return u && !excluded.has(u.id) ? { upstream: u } : undefined;
    },
    unavailable: (req, res, requestId) => sendUnavailable(req, res, { service: 'machineroom', instances: 0, passing: 0 }, requestId),
  };
  // Destinations by service and tag; bounded like the host cache (tags come from Host headers).
  const destinations = new Map<string, Destination>();
  const destination = (service: string, tag: string | undefined): Destination => {
    const key = tag === undefined ? service : `${service}\u0000${tag}`;
    let d = destinations.get(key);
    if (!d) {
      if (destinations.size >= 1024) destinations.clear();
      d = makeDestination(service, tag);
      destinations.set(key, d);
    }
    return d;
  };

  // Host header → destination for the generated host forms (path-independent), rebuilt with every state: most
  // requests skip route matching. Bounded, since clients choose the Host header.
  const hostCache = new Map<string, Destination | null>();
  const generatedDestination = (hostHeader: string | undefined): Destination | null => {
    const key = hostHeader ?? '';
    let hit = hostCache.get(key);
    if (hit === undefined) {
      const host = normalizeHost(key);
      if (host === DASHBOARD_HOST && table.control()) hit = controlDestination;
      else {
        const configured = table.state.routes.some((r) => r.hosts?.some((h) => normalizeHost(h) === host));
        const generated = configured ? undefined : matchGeneratedHost(host, ctx);
        hit = generated === undefined ? null : destination(generated.service, generated.tag);
      }
      if (hostCache.size >= 1024) hostCache.clear();
      hostCache.set(key, hit);
    }
    return hit;
  };
  const route = (hostHeader: string | undefined, path: string): RouteMatch => {
    const hit = generatedDestination(hostHeader);
    if (hit === null) return matchRoute(hostHeader, path, ctx);
    return hit.tag === undefined ? { kind: 'service', service: hit.service, path } : { kind: 'service', service: hit.service, tag: hit.tag, path };
  };

  const forward = (d: Destination, path: string, req: IncomingMessage, res: ServerResponse): void => {
    if (log.debugEnabled) log.debug(`${req.method} ${req.headers.host}${req.url} → ${d.service}${d.tag ? ` [${d.tag}]` : ''} ${path}`);
    const p = proxyRequest(req, res, path, d);
    if (onAccess && !d.internal && accessLogged(table.state.accessLog, d.service)) {
      const started = performance.now();
      res.once('close', () =>
        onAccess({ service: d.service, instance: p.chosen, method: req.method ?? 'GET', host: req.headers.host ?? '', path: req.url ?? '/', status: res.statusCode, durationMs: performance.now() - started, completed: res.writableFinished }),
      );
    }
  };

  const upgrade = (m: Extract<RouteMatch, { kind: 'service' }>, req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    upgrades.add(socket);
    socket.once('close', () => upgrades.delete(socket));
    proxyUpgrade(req, socket, head, m.path, {
      connectMs: opts.timeouts.connectMs,
      maxFails: opts.maxFails,
      failTimeoutMs: opts.failTimeoutMs,
      choose: chooser(m.service, m.tag, req.headers.cookie),
      unavailableText: () => {
        const i = unavailableInfo(m.service, m.tag);
        return `service "${m.service}" has no passing instance (${i.passing} of ${i.instances} passing)`;
      },
    });
  };

  const refuseClosed = (res: ServerResponse): void => {
    res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' }).end('front door closed\n');
  };

  return {
    handleRequest(req, res) {
      if (closed) return refuseClosed(res);
      const url = req.url ?? '/';
      const hit = generatedDestination(req.headers.host);
      if (hit !== null) return forward(hit, url, req, res);
      const m = matchRoute(req.headers.host, url, ctx);
      if (m.kind === 'index') return sendIndex(req, res, routesOf(table.state, opts.project, opts.domain));
      if (m.kind === 'none') return sendUnknownHost(req, res, m.host, routesOf(table.state, opts.project, opts.domain));
      forward(destination(m.service, m.tag), m.path, req, res);
    },
    handleUpgrade(req, socket, head) {
      if (closed) return refuseUpgrade(socket, 503, 'Service Unavailable', 'front door closed');
      if (generatedDestination(req.headers.host)?.internal) return refuseUpgrade(socket, 404, 'Not Found', 'the machineroom dashboard and API take no protocol upgrades');
      const m = route(req.headers.host, req.url ?? '/');
      if (m.kind !== 'service') return refuseUpgrade(socket, 404, 'Not Found', `no route for host "${req.headers.host ?? ''}"`);
      upgrade(m, req, socket, head);
    },
    handleServiceRequest(service, req, res) {
      if (closed) return refuseClosed(res);
      forward(destination(service, undefined), req.url ?? '/', req, res);
    },
    handleServiceUpgrade(service, req, socket, head) {
      if (closed) return refuseUpgrade(socket, 503, 'Service Unavailable', 'front door closed');
      upgrade({ kind: 'service', service, path: req.url ?? '/' }, req, socket, head);
    },
    handleTcp(service, socket) {
      if (closed) return void socket.destroy();
      upgrades.add(socket);
      socket.once('close', () => upgrades.delete(socket));
      proxyTcp(socket, { connectMs: opts.timeouts.connectMs, maxFails: opts.maxFails, failTimeoutMs: opts.failTimeoutMs, choose: chooser(service, undefined, undefined) });
    },
    apply(state) {
      table.apply(state);
      ctx.routes = table.state.routes;
      hostCache.clear();
    },
    get state() {
      return table.state;
    },
    awaitIdle(id, timeoutMs) {
      const u = table.upstream(id);
      if (!u || u.inFlight === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
        u.idleWaiters.push(() => {
          clearTimeout(timer);
          // The last response is still being written back to its pooled socket: close the pool once it is free.
          setImmediate(() => closeIdleSockets(u));
          resolve(true);
        });
      });
    },
    routes: () => routesOf(table.state, opts.project, opts.domain),
    rawStats() {
      const now = Date.now();
      return table.all().map((u) => ({
        id: u.id,
        service: u.service,
        address: `${u.address}:${u.port}`,
        requests: u.requests,
        errors: u.errors,
        inFlight: u.inFlight,
        latencies: recentLatencies(u),
        draining: u.draining,
        ejected: u.ejectedUntil > now,
      }));
    },
    close() {
      if (closed) return;
      closed = true;
      table.close();
      for (const s of upgrades) s.destroy();
      upgrades.clear();
    },
  };
}
