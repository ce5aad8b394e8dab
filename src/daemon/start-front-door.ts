// The front door, served: listeners on 127.0.0.1 and [::1] (HTTP, and HTTPS with the project CA) at the preferred
// ports, moved past ports other projects hold; the daemon serves them and so do proxy worker processes, all fed the
// same routing state from the bus.
import { availableParallelism } from 'node:os';
import type { Server as NetServer } from 'node:net';
import type { BusStore } from '../bus/index.js';
import type { ResolvedFrontDoor } from '../config/index.js';
import { createFrontDoorCore } from '../frontdoor/core.js';
import { createListenerServer } from '../frontdoor/listener-kinds.js';
import type { ListenerSpec, TlsContexts } from '../frontdoor/listener-kinds.js';
import { resolveFrontDoorOptions } from '../frontdoor/resolve-options.js';
import { createRoutingFeed } from '../frontdoor/routing-state.js';
import type { AccessLogScope, ControlTarget } from '../frontdoor/routing-state.js';
import { mergeStats } from '../frontdoor/stats.js';
import { tlsContextsFor } from '../frontdoor/tls-contexts.js';
import { startWorkerPool } from '../frontdoor/worker-pool.js';
import type { WorkerPool } from '../frontdoor/worker-pool.js';
import type { AccessEntry, InstanceStats, RouteConfig, RouteInfo } from '../frontdoor/index.js';
import type { RegisteredProject } from '../state/index.js';
import { bindPort } from './listen.js';

/** A running front door. */
export interface ServedFrontDoor {
  readonly port: number;
  /** The HTTPS port, when TLS could be set up. */
  readonly httpsPort: number | undefined;
  readonly workers: number;
  routes(): RouteInfo[];
  /** Counters merged across the daemon and its proxy workers. */
  stats(): Promise<InstanceStats[]>;
  /** Stops choosing an instance everywhere; resolves when its in-flight requests end or the drain timeout passes. */
  drain(serviceId: string): Promise<void>;
  setServices(names: string[]): void;
  setRoutes(routes: RouteConfig[]): void;
  setAccessLog(scope: AccessLogScope): void;
  /** Serves a service's own address (HTTP routing or TCP forwarding to its healthy instances); replaces an earlier one. */
  addServiceAddress(service: string, host: string, port: number, protocol: 'http' | 'tcp'): Promise<void>;
  removeServiceAddress(service: string): Promise<void>;
  workerPids(): number[];
  /**
   * Starts the proxy workers (once; a no-op with none configured). The daemon serves every listener alone until then:
   * it starts them once the first instances have settled, so that their node boots do not take the CPU that
   * PostgreSQL and the apps need while they start.
   */
  startWorkers(): void;
  close(): Promise<void>;
}

function listen(server: NetServer, host: string, port: number): Promise<NetServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeServer(s: NetServer): Promise<void> {
  return new Promise<void>((r) => {
    s.close(() => r());
    (s as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/**
 * Proxy workers for a setting: 'auto' is one per core (the daemon serves too) on machines with two or more, at most 3
 * (each is a Node process of ~45 MB). One per core beyond the first was measured worse on 2 cores shared with the load
 * generator and the backends: with the daemon and one worker each process holds half the connections, and at 256
 * connections p99 was 1.3–3× nginx's; with two workers it was 0.7–1× (same runs, same throughput at 64 connections).
 */
export function workerCount(setting: number | 'auto'): number {
  if (setting !== 'auto') return setting;
  const cores = availableParallelism();
  return cores < 2 ? 0 : Math.min(cores, 3);
}

/** Starts the front door for a project. */
export async function startFrontDoor(opts: {
  store: BusStore;
  project: string;
  domain: string;
  settings: ResolvedFrontDoor;
  projectId: string;
  entry: Omit<RegisteredProject, 'ports'>;
  /** The project's state directory (its CA lives there); no HTTPS without it. */
  stateDir?: string;
  registryDir?: string;
  onAccess?: (entry: AccessEntry) => void;
  onWorkerCrash?: (message: string) => void;
  /** Leave the workers to startWorkers() (the daemon serves alone until then). */
  deferWorkers?: boolean;
  /** The daemon's control listener: every front-door process proxies machineroom.localhost there (the dashboard). */
  control?: ControlTarget;
}): Promise<ServedFrontDoor> {
  const resolved = resolveFrontDoorOptions({
    store: opts.store,
    project: opts.project,
    domain: opts.domain,
    balancer: opts.settings.balancer,
    drainTimeoutMs: opts.settings.drainTimeout,
  });
  const coreOptions = {
    project: resolved.project,
    domain: resolved.domain,
    balancer: resolved.balancer,
    sticky: resolved.sticky,
    timeouts: resolved.timeouts,
    maxFails: resolved.maxFails,
    failTimeoutMs: resolved.failTimeoutMs,
  };
  const core = createFrontDoorCore(coreOptions, opts.onAccess);
  const feed = createRoutingFeed(opts.store, { accessLog: { global: opts.settings.accessLog, services: {} }, ...(opts.control ? { control: opts.control } : {}) });
  let pool: WorkerPool | undefined;
  const unsubscribe = feed.subscribe((state) => {
    core.apply(state);
    pool?.broadcast(state);
  });

  const listeners: Array<{ spec: ListenerSpec; server: NetServer }> = [];
  const bind = async (spec: ListenerSpec, preferred: number, setting: string, tls?: TlsContexts): Promise<number> => {
    const v4 = await bindPort({
      role: spec.kind,
      preferred,
      projectId: opts.projectId,
      entry: opts.entry,
      setting,
      attempt: (port) => listen(createListenerServer({ ...spec, id: `${spec.id}4` }, core, tls), '127.0.0.1', port),
      portOf: (s) => (s.address() as { port: number }).port,
      ...(opts.registryDir ? { registryDir: opts.registryDir } : {}),
    });
    const port = (v4.address() as { port: number }).port;
    listeners.push({ spec: { ...spec, id: `${spec.id}4` }, server: v4 });
    // Browsers may try ::1 first for *.localhost names: serve it too when the port is free there.
    const v6 = await listen(createListenerServer({ ...spec, id: `${spec.id}6` }, core, tls), '::1', port).catch(() => undefined);
    if (v6) listeners.push({ spec: { ...spec, id: `${spec.id}6` }, server: v6 });
    return port;
  };

  try {
    const port = await bind({ id: 'http', kind: 'http' }, opts.settings.httpPort, 'front_door: { http_port: } in machineroom.yml or MACHINEROOM_HTTP_PORT=<port>');
    let httpsPort: number | undefined;
    if (opts.stateDir) {
      const tls = tlsContextsFor(opts.stateDir, opts.project, () => core.state, resolved.domain);
      httpsPort = await bind({ id: 'https', kind: 'https' }, opts.settings.httpsPort, 'front_door: { https_port: } in machineroom.yml or MACHINEROOM_HTTPS_PORT=<port>', tls);
    }
    const count = workerCount(opts.settings.workers);
    let closed: Promise<void> | undefined;
    const startWorkers = (): void => {
      if (pool || count === 0 || closed) return;
      pool = startWorkerPool({
        count,
        options: coreOptions,
        listeners,
        ...(opts.stateDir && httpsPort !== undefined ? { stateDir: opts.stateDir } : {}),
        current: () => feed.current(),
        projectId: opts.projectId,
        ...(opts.onAccess ? { onAccess: opts.onAccess } : {}),
        ...(opts.onWorkerCrash ? { onCrash: opts.onWorkerCrash } : {}),
      });
    };
    if (!opts.deferWorkers) startWorkers();
    const serviceListeners = new Map<string, NetServer>();
    const removeServiceAddress = async (service: string): Promise<void> => {
      const server = serviceListeners.get(service);
      if (!server) return;
      serviceListeners.delete(service);
      const id = `svc:${service}`;
      const at = listeners.findIndex((l) => l.spec.id === id);
      if (at >= 0) listeners.splice(at, 1);
      // Every process lets go of the socket before the caller releases the address (to another machine or project).
      await Promise.all([pool?.unlisten(id), closeServer(server)]);
    };
    return {
      port,
      httpsPort,
      workers: count,
      routes: () => core.routes(),
      async stats() {
        const remote = pool ? await pool.stats() : [];
        return mergeStats([core.rawStats(), ...remote]);
      },
      async drain(serviceId) {
        feed.setDraining(serviceId, true);
        feed.flush();
        await Promise.all([core.awaitIdle(serviceId, resolved.drainTimeoutMs), pool?.drain(serviceId, resolved.drainTimeoutMs)]);
      },
      setServices: (names) => feed.setConfigured(names),
      setRoutes: (routes) => feed.setRoutes(routes),
      setAccessLog: (scope) => feed.setAccessLog(scope),
      async addServiceAddress(service, host, port, protocol) {
        await removeServiceAddress(service);
        const spec: ListenerSpec = { id: `svc:${service}`, kind: protocol, service };
        const server = await listen(createListenerServer(spec, core), host, port);
        serviceListeners.set(service, server);
        if (pool) pool.listen(spec, server);
        else listeners.push({ spec, server });
      },
      removeServiceAddress,
      workerPids: () => pool?.pids() ?? [],
      startWorkers,
      close() {
        closed ??= (async () => {
          unsubscribe();
          feed.close();
          core.close();
          await Promise.all([pool?.close(), ...listeners.map((l) => closeServer(l.server))]);
        })();
        return closed;
      },
    };
  } catch (err) {
    unsubscribe();
    feed.close();
    core.close();
    await Promise.all(listeners.map((l) => closeServer(l.server)));
    throw err;
  }
}
