// The front door's user options and the shapes it reports (routes, per-instance counters).
import type { BusStore } from '../bus/index.js';

/** Balancing strategies, chosen per front door. */
export type BalancerKind = 'round-robin' | 'least-conn' | 'p2c';

/** A configured route: extra host names and/or path prefixes for one service. */
export interface RouteConfig {
  service: string;
  /** Extra host names (exact, case-insensitive, port ignored). */
  hosts?: string[];
  /** Path prefixes ("/api" matches "/api" and "/api/..."); longest prefix wins. */
  paths?: string[];
  /** Remove the matched prefix before forwarding. */
  strip?: boolean;
}

/** Proxy timeouts in milliseconds (0 = none). */
export interface FrontDoorTimeouts {
  connectMs?: number;
  idleMs?: number;
  totalMs?: number;
}

/** What createFrontDoor accepts. */
export interface FrontDoorOptions {
  store: BusStore;
  project: string;
  domain?: string;
  routes?: RouteConfig[];
  balancer?: BalancerKind;
  /** Service name → sticky cookie name. */
  sticky?: Record<string, string>;
  timeouts?: FrontDoorTimeouts;
  maxFails?: number;
  failTimeoutMs?: number;
  drainTimeoutMs?: number;
  /** Hears every proxied request when it ends (the daemon's access log). */
  onAccess?: (entry: AccessEntry) => void;
}

/** One proxied request, for the access log. */
export interface AccessEntry {
  service: string;
  /** The instance that answered (the last one tried); undefined when none was available. */
  instance: string | undefined;
  method: string;
  host: string;
  path: string;
  status: number;
  durationMs: number;
  /** False when the client went away before the answer was complete. */
  completed: boolean;
}

/** Options with every default filled in. */
export interface ResolvedFrontDoorOptions {
  store: BusStore;
  project: string;
  domain: string;
  routes: RouteConfig[];
  balancer: BalancerKind;
  sticky: Record<string, string>;
  timeouts: Required<FrontDoorTimeouts>;
  maxFails: number;
  failTimeoutMs: number;
  drainTimeoutMs: number;
}

/** One route as listed by routes() and the index page. */
export interface RouteInfo {
  service: string;
  hosts: string[];
  paths: string[];
  strip: boolean;
  /** Only instances carrying this tag (tag host forms). */
  tag?: string;
  instances: number;
  passing: number;
}

/** Counters for one upstream instance; p50/p99 are milliseconds to response headers. */
export interface InstanceStats {
  id: string;
  service: string;
  address: string;
  requests: number;
  errors: number;
  inFlight: number;
  p50: number;
  p99: number;
  draining: boolean;
  ejected: boolean;
}
