// The front door's view of the world as plain data: every service's instances with their health, the routes, which
// instances drain, and what the access log covers. Built in the daemon from the bus store and sent to proxy workers.
import type { BusStore, StoreChange } from '../bus/index.js';
import type { RouteConfig } from './types.js';

/** One registered instance as the front door sees it. */
export interface RoutingInstance {
  id: string;
  service: string;
  address: string;
  port: number;
  tags: string[];
  status: 'passing' | 'warning' | 'critical';
  /** Balancing weight for its current health (Weights.Passing or Weights.Warning). */
  weight: number;
}

/** The check to name when a service has no passing instance: the failing one changed last, else the newest. */
export interface LastCheck {
  checkId: string;
  serviceId: string;
  status: string;
  output: string;
}

/** One service's instances. */
export interface RoutingService {
  name: string;
  instances: RoutingInstance[];
  lastCheck?: LastCheck;
}

/** Where the daemon's control listener is (the dashboard and API): machineroom.localhost is proxied there. */
export interface ControlTarget {
  address: string;
  port: number;
}

/** Everything a front door process needs to route. */
export interface RoutingState {
  /** Grows with every change; a process ignores a state older than the one it has. */
  version: number;
  services: RoutingService[];
  /** Instance IDs that get no new requests. */
  draining: string[];
  routes: RouteConfig[];
  /** Configured service names, so one with no instance at all answers 503 rather than 404. */
  configured: string[];
  accessLog: AccessLogScope;
  /** The daemon's control listener, when this front door belongs to a daemon (machineroom.localhost goes there). */
  control?: ControlTarget;
}

/** Which services' requests are logged: a global default and per-service overrides. */
export interface AccessLogScope {
  global: boolean;
  services: Record<string, boolean>;
}

/** Whether requests to a service are access-logged. */
export function accessLogged(scope: AccessLogScope, service: string): boolean {
  return scope.services[service] ?? scope.global;
}

/** A live RoutingState kept from the bus store; changes in one tick are coalesced into one new state. */
export interface RoutingFeed {
  current(): RoutingState;
  /** Hears every new state (at once with the current one). */
  subscribe(listener: (state: RoutingState) => void): () => void;
  setDraining(id: string, draining: boolean): void;
  setRoutes(routes: RouteConfig[]): void;
  setConfigured(names: string[]): void;
  setAccessLog(scope: AccessLogScope): void;
  /** Publishes pending changes now instead of at the end of the tick. */
  flush(): void;
  close(): void;
}

/** The agent's own "consul" entry (its RPC port, nothing to proxy to), as in Consul's catalog. */
const CONSUL_SERVICE = 'consul';

function serviceFromStore(store: BusStore, name: string): RoutingService | undefined {
  if (name === CONSUL_SERVICE) return undefined;
  const list = store.instancesOf(name);
  if (list.length === 0) return undefined;
  const instances: RoutingInstance[] = [];
  let lastCheck: LastCheck | undefined;
  let bestRank = -1;
  for (const svc of list) {
    const status = store.statusOf(svc.ID);
    const weight = Math.max(1, status === 'warning' ? (svc.Weights?.Warning ?? 1) : (svc.Weights?.Passing ?? 1));
    // As in Consul, an instance without an address of its own is reached at its node's.
    const address = svc.Address || store.node(svc.Node)?.Address || '';
    if (!address || !svc.Port) continue;
    instances.push({ id: svc.ID, service: svc.Service, address, port: svc.Port, tags: svc.Tags, status, weight });
    for (const c of store.checksOfService(svc.ID)) {
      const rank = (c.Status === 'passing' ? 0 : 1_000_000_000) + c.ModifyIndex;
      if (rank > bestRank) {
        bestRank = rank;
        lastCheck = { checkId: c.CheckID, serviceId: svc.ID, status: c.Status, output: c.Output };
      }
    }
  }
  return lastCheck ? { name, instances, lastCheck } : { name, instances };
}

/** Follows the store (no polling) and publishes a new state per tick of changes. */
export function createRoutingFeed(store: BusStore, initial: Partial<Pick<RoutingState, 'routes' | 'configured' | 'accessLog' | 'control'>> = {}): RoutingFeed {
  const services = new Map<string, RoutingService>();
  const dirty = new Set<string>();
  let dirtyAll = true;
  const draining = new Set<string>();
  let routes = initial.routes ?? [];
  let configured = initial.configured ?? [];
  let accessLog = initial.accessLog ?? { global: false, services: {} };
  const control = initial.control;
  let version = 0;
  let state: RoutingState | undefined;
  let scheduled = false;
  const listeners = new Set<(s: RoutingState) => void>();

  const build = (): RoutingState => {
    if (dirtyAll) {
      services.clear();
      for (const name of new Set(store.services().map((s) => s.Service))) {
        if (name === CONSUL_SERVICE) continue;
        const s = serviceFromStore(store, name);
        if (s) services.set(name, s);
      }
    } else {
      for (const name of dirty) {
        const s = serviceFromStore(store, name);
        if (s) services.set(name, s);
        else services.delete(name);
      }
    }
    dirtyAll = false;
    dirty.clear();
    for (const id of draining) if (![...services.values()].some((s) => s.instances.some((i) => i.id === id))) draining.delete(id);
    return { version: ++version, services: [...services.values()], draining: [...draining], routes, configured, accessLog, ...(control ? { control } : {}) };
  };

  const publish = (): void => {
    scheduled = false;
    state = build();
    for (const l of listeners) l(state);
  };
  const schedule = (): void => {
    state = undefined;
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      if (scheduled) publish();
    });
  };

  const onChange = (change: StoreChange): void => {
    if (change.kind === 'service') dirty.add(change.service.Service);
    else if (change.kind === 'check' && change.check.ServiceName) dirty.add(change.check.ServiceName);
    else dirtyAll = true;
    schedule();
  };
  const unsubscribe = store.subscribe(onChange);

  return {
    current: () => (state ??= build()),
    subscribe(listener) {
      listeners.add(listener);
      listener(state ??= build());
      return () => listeners.delete(listener);
    },
    setDraining(id, on) {
      if (on) draining.add(id);
      else draining.delete(id);
      schedule();
    },
    setRoutes(r) {
      routes = r;
      schedule();
    },
    setConfigured(names) {
      configured = names;
      schedule();
    },
    setAccessLog(scope) {
      accessLog = scope;
      schedule();
    },
    flush() {
      if (scheduled || !state) publish();
    },
    close() {
      unsubscribe();
      listeners.clear();
    },
  };
}
