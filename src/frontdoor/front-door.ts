// The front door: a node:http-level reverse proxy and load balancer over the bus's healthy instances.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createLogger } from '../log/index.js';
import type { RouteConfig } from './types.js';
import { createBalancer } from './balancer.js';
import { matchRoute } from './match-route.js';
import { sendIndex, sendUnavailable, sendUnknownHost } from './pages.js';
import type { UnavailableInfo } from './pages.js';
import { proxyRequest } from './proxy-request.js';
import type { UpstreamChoice } from './proxy-request.js';
import { proxyUpgrade, refuseUpgrade } from './proxy-upgrade.js';
import { resolveFrontDoorOptions } from './resolve-options.js';
import { createRoutingTable } from './routing-table.js';
import { closeIdleSockets, isSelectable, latencyQuantile } from './upstream.js';
import type { FrontDoorOptions, InstanceStats, RouteInfo } from './types.js';
import { readCookie } from './read-cookie.js';

const log = createLogger('frontdoor');

/** The front door's handlers and controls; the daemon mounts handleRequest/handleUpgrade on its listeners. */
export interface FrontDoor {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Stops choosing an instance, closes its idle connections; resolves when its in-flight requests end or the drain timeout passes. */
  drain(serviceId: string): Promise<void>;
  routes(): RouteInfo[];
  stats(): InstanceStats[];
  /** Names the project's configured services, so one with no instance at all still answers 503 rather than 404. */
  setServices(names: string[]): void;
  /** Replaces the configured routes (on every config apply). */
  setRoutes(routes: RouteConfig[]): void;
  /** Unsubscribes from the bus and closes every upstream connection; safe to call twice. */
  close(): void;
}

/** Creates a front door reading its targets from the bus store. */
export function createFrontDoor(options: FrontDoorOptions): FrontDoor {
  const opts = resolveFrontDoorOptions(options);
  const { store } = opts;
  const table = createRoutingTable(store);
  const balancer = createBalancer(opts.balancer);
  const upgrades = new Set<Duplex>();
  let closed = false;

  const configured = new Map<string, string>();
  const ctx = {
    routes: opts.routes,
    project: opts.project,
    domain: opts.domain,
    resolveService: (label: string) => table.resolveService(label) ?? configured.get(label.toLowerCase()),
  };

  const countOf = (service: string, tag?: string): { instances: number; passing: number } => {
    const all = store.instancesOf(service).filter((s) => tag === undefined || s.Tags.some((t) => t.toLowerCase() === tag));
    return { instances: all.length, passing: all.filter((s) => store.statusOf(s.ID) !== 'critical').length };
  };

  const routes = (): RouteInfo[] => {
    const out: RouteInfo[] = [];
    for (const r of opts.routes) {
      out.push({ service: r.service, hosts: (r.hosts ?? []).map((h) => h.toLowerCase()), paths: r.paths ?? [], strip: r.strip ?? false, ...countOf(r.service) });
    }
    const names = [...new Set(store.services().map((s) => s.Service))].sort();
    for (const name of names) {
      const svc = name.toLowerCase();
      out.push({ service: name, hosts: [`${svc}.localhost`, `${svc}.${opts.project}.localhost`, `${svc}.service.${opts.domain}`], paths: [], strip: false, ...countOf(name) });
      const tags = [...new Set(store.instancesOf(name).flatMap((s) => s.Tags.map((t) => t.toLowerCase())))].sort();
      for (const tag of tags) out.push({ service: name, tag, hosts: [`${tag}.${svc}.service.${opts.domain}`], paths: [], strip: false, ...countOf(name, tag) });
    }
    return out;
  };

  const unavailableInfo = (service: string, tag?: string): UnavailableInfo => {
    const info: UnavailableInfo = { service, ...countOf(service, tag), ...(tag === undefined ? {} : { tag }) };
    let best: UnavailableInfo['lastCheck'];
    let bestIndex = -1;
    for (const s of store.instancesOf(service)) {
      for (const c of store.checksOfService(s.ID)) {
        const rank = (c.Status === 'passing' ? 0 : 1_000_000_000) + c.ModifyIndex;
        if (rank > bestIndex) {
          bestIndex = rank;
          best = { checkId: c.CheckID, serviceId: s.ID, status: c.Status, output: c.Output };
        }
      }
    }
    if (best) info.lastCheck = best;
    return info;
  };

  const chooser =
    (service: string, tag: string | undefined, req: IncomingMessage) =>
    (excluded: ReadonlySet<string>): UpstreamChoice | undefined => {
      const now = Date.now();
      const healthy = table.healthy(service, tag).filter((u) => !u.draining && !excluded.has(u.id));
      let candidates = healthy.filter((u) => isSelectable(u, now));
      // Every remaining instance ejected by passive health: try them anyway rather than fail outright (panic mode).
      if (candidates.length === 0) candidates = healthy;
      if (candidates.length === 0) return undefined;
      const cookieName = opts.sticky[service];
      if (cookieName) {
        const pinned = readCookie(req.headers.cookie, cookieName);
        const hit = pinned === undefined ? undefined : candidates.find((u) => u.id === pinned);
        if (hit) return { upstream: hit };
      }
      const upstream = balancer.pick(service, candidates);
      return { upstream, setCookie: cookieName ? `${cookieName}=${encodeURIComponent(upstream.id)}; Path=/; HttpOnly; SameSite=Lax` : undefined };
    };

  return {
    handleRequest(req, res) {
      if (closed) {
        res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' }).end('front door closed\n');
        return;
      }
      const m = matchRoute(req.headers.host, req.url ?? '/', ctx);
      if (m.kind === 'index') return sendIndex(req, res, routes());
      if (m.kind === 'none') return sendUnknownHost(req, res, m.host, routes());
      if (log.debugEnabled) log.debug(`${req.method} ${req.headers.host}${req.url} → ${m.service}${m.tag ? ` [${m.tag}]` : ''} ${m.path}`);
      const choose = chooser(m.service, m.tag, req);
      let chosen: string | undefined;
      const onAccess = options.onAccess;
      if (onAccess) {
        const started = performance.now();
        const service = m.service;
        res.once('close', () =>
          onAccess({ service, instance: chosen, method: req.method ?? 'GET', host: req.headers.host ?? '', path: req.url ?? '/', status: res.statusCode, durationMs: performance.now() - started, completed: res.writableFinished }),
        );
      }
      proxyRequest(req, res, m.path, {
        ...opts.timeouts,
        maxFails: opts.maxFails,
        failTimeoutMs: opts.failTimeoutMs,
        choose: (...args: Parameters<typeof choose>) => {
          const c = choose(...args);
          if (c) chosen = c.upstream.id;
          return c;
        },
        unavailable: (requestId) => sendUnavailable(req, res, unavailableInfo(m.service, m.tag), requestId),
      });
    },

    handleUpgrade(req, socket, head) {
      if (closed) return refuseUpgrade(socket, 503, 'Service Unavailable', 'front door closed');
      const m = matchRoute(req.headers.host, req.url ?? '/', ctx);
      if (m.kind !== 'service') return refuseUpgrade(socket, 404, 'Not Found', `no route for host "${req.headers.host ?? ''}"`);
      upgrades.add(socket);
      socket.once('close', () => upgrades.delete(socket));
      proxyUpgrade(req, socket, head, m.path, {
        connectMs: opts.timeouts.connectMs,
        maxFails: opts.maxFails,
        failTimeoutMs: opts.failTimeoutMs,
        choose: chooser(m.service, m.tag, req),
        unavailableText: () => {
          const i = unavailableInfo(m.service, m.tag);
          return `service "${m.service}" has no passing instance (${i.passing} of ${i.instances} passing)`;
        },
      });
    },

    setRoutes(routes) {
      ctx.routes = routes;
    },
    setServices(names) {
      configured.clear();
      for (const n of names) configured.set(n.toLowerCase(), n);
    },
    drain(serviceId) {
      const u = table.upstream(serviceId);
      if (!u) return Promise.resolve();
      u.draining = true;
      closeIdleSockets(u);
      if (u.inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn(`drain of ${serviceId} timed out after ${opts.drainTimeoutMs}ms with ${u.inFlight} request(s) in flight`);
          resolve();
        }, opts.drainTimeoutMs);
        timer.unref();
        u.idleWaiters.push(() => {
          clearTimeout(timer);
          setImmediate(() => closeIdleSockets(u));
          resolve();
        });
      });
    },

    routes,

    stats() {
      const now = Date.now();
      return table.all().map((u) => ({
        id: u.id,
        service: u.service,
        address: `${u.address}:${u.port}`,
        requests: u.requests,
        errors: u.errors,
        inFlight: u.inFlight,
        p50: latencyQuantile(u, 0.5),
        p99: latencyQuantile(u, 0.99),
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
