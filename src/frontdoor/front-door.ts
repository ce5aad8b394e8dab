// The front door in one process: a proxy core fed straight from the bus store (tests, and the daemon's view of its
// own routes). The daemon runs the same core in proxy workers as well, fed over IPC (src/daemon/start-front-door.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createFrontDoorCore } from './core.js';
import { resolveFrontDoorOptions } from './resolve-options.js';
import { createRoutingFeed } from './routing-state.js';
import { mergeStats } from './stats.js';
import type { FrontDoorOptions, InstanceStats, RouteConfig, RouteInfo } from './types.js';

/** The front door's handlers and controls. */
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
  const core = createFrontDoorCore(opts, options.onAccess);
  const feed = createRoutingFeed(opts.store, { routes: opts.routes, accessLog: { global: options.onAccess !== undefined, services: {} } });
  const unsubscribe = feed.subscribe((s) => core.apply(s));
  return {
    handleRequest: (req, res) => core.handleRequest(req, res),
    handleUpgrade: (req, socket, head) => core.handleUpgrade(req, socket, head),
    async drain(serviceId) {
      feed.setDraining(serviceId, true);
      feed.flush();
      await core.awaitIdle(serviceId, opts.drainTimeoutMs);
    },
    routes: () => core.routes(),
    stats: () => mergeStats([core.rawStats()]),
    setServices: (names) => feed.setConfigured(names),
    setRoutes: (routes) => feed.setRoutes(routes),
    close() {
      unsubscribe();
      feed.close();
      core.close();
    },
  };
}
