// Per-instance upstream state: a keep-alive agent, in-flight and failure counters, drain and ejection, latencies.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { createUpstreamPool } from './upstream-pool.js';
import type { UpstreamPool } from './upstream-pool.js';
import type { RoutingInstance } from './routing-state.js';

const LATENCY_SAMPLES = 1024;

/** One instance the front door may send traffic to. */
export interface Upstream {
  readonly id: string;
  service: string;
  address: string;
  port: number;
  tags: string[];
  /** Balancing weight for its current health (Weights.Passing or Weights.Warning). */
  weight: number;
  readonly pool: UpstreamPool;
  inFlight: number;
  requests: number;
  errors: number;
  consecutiveFails: number;
  ejectedUntil: number;
  draining: boolean;
  latencies: Float64Array;
  latencyCount: number;
  /** Called whenever inFlight drops (drain waits on it). */
  idleWaiters: Array<() => void>;
}

/** Creates the upstream state for a registered instance. */
export function createUpstream(inst: Omit<RoutingInstance, 'status'>, idleMs = 0): Upstream {
  return {
    id: inst.id,
    service: inst.service,
    address: inst.address,
    port: inst.port,
    tags: inst.tags,
    weight: inst.weight,
    // The idle timeout lives on each pooled socket (refreshed by its own traffic), not a timer per request.
    pool: createUpstreamPool(inst.address, inst.port, { idleMs, maxIdle: 256 }),
    inFlight: 0,
    requests: 0,
    errors: 0,
    consecutiveFails: 0,
    ejectedUntil: 0,
    draining: false,
    latencies: new Float64Array(LATENCY_SAMPLES),
    latencyCount: 0,
    idleWaiters: [],
  };
}

/** Marks one attempt started on an upstream (end it with endAttempt, once). */
export function beginAttempt(u: Upstream): void {
  u.inFlight++;
  u.requests++;
}

/** Marks one attempt started; returns its end, safe to call more than once (close and error may both report it). */
export function openAttempt(u: Upstream): () => void {
  beginAttempt(u);
  let finished = false;
  return () => {
    if (finished) return;
    finished = true;
    endAttempt(u);
  };
}

/** Marks one attempt ended; wakes drain waiters when the upstream goes idle. */
export function endAttempt(u: Upstream): void {
  u.inFlight--;
  if (u.inFlight === 0 && u.idleWaiters.length > 0) {
    const waiters = u.idleWaiters.splice(0);
    for (const w of waiters) w();
  }
}

/** Records a connection-level failure; ejects after maxFails in a row (passive health). */
export function recordFailure(u: Upstream, maxFails: number, failTimeoutMs: number, now: number): void {
  u.errors++;
  u.consecutiveFails++;
  if (maxFails > 0 && u.consecutiveFails >= maxFails) {
    u.ejectedUntil = now + failTimeoutMs;
    u.consecutiveFails = 0;
  }
}

/** Records a response received (resets the failure streak) and its time to headers. */
export function recordSuccess(u: Upstream, latencyMs: number): void {
  u.consecutiveFails = 0;
  u.latencies[u.latencyCount % LATENCY_SAMPLES] = latencyMs;
  u.latencyCount++;
}

/** Recent latencies (milliseconds to response headers), at most the last 1024. */
export function recentLatencies(u: Upstream): Float64Array {
  return u.latencies.slice(0, Math.min(u.latencyCount, LATENCY_SAMPLES));
}

/** The q-quantile (0..1) of latency samples, 0 when there are none. */
export function quantile(samples: ArrayLike<number>, q: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(n - 1, Math.floor(q * n))]!;
}

/** Whether the balancer may choose this upstream now. */
export function isSelectable(u: Upstream, now: number): boolean {
  return !u.draining && u.ejectedUntil <= now;
}

/** Destroys idle pooled sockets (drain and shutdown). */
export function closeIdleSockets(u: Upstream): void {
  u.pool.closeIdle();
}

/**
 * Opens a raw connection to an upstream (TCP forwarding, upgrades): fails with ERR_FRONTDOOR_CONNECT_TIMEOUT after
 * connectMs, and on connect records the connect time as its latency and turns Nagle off.
 */
export function connectUpstream(u: Upstream, connectMs: number): Socket {
  const started = performance.now();
  const up = connect({ host: u.address, port: u.port });
  const timer = setTimeout(() => up.destroy(Object.assign(new Error(`connect timed out after ${connectMs}ms`), { code: 'ERR_FRONTDOOR_CONNECT_TIMEOUT' })), connectMs);
  up.once('connect', () => {
    clearTimeout(timer);
    recordSuccess(u, performance.now() - started);
    up.setNoDelay(true);
  });
  up.once('close', () => clearTimeout(timer));
  return up;
}
