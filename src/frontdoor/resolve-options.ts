// Fills the front door's defaults in one place.
import { MachineroomError } from '../errors/index.js';
import type { BalancerKind, FrontDoorOptions, ResolvedFrontDoorOptions } from './types.js';

const BALANCERS: readonly BalancerKind[] = ['round-robin', 'least-conn', 'p2c'];

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new MachineroomError('ERR_CONFIG_INVALID', `frontdoor.${name}: expected a number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

/** Resolves user options to the front door's working options. */
export function resolveFrontDoorOptions(opts: FrontDoorOptions): ResolvedFrontDoorOptions {
  if (opts.balancer !== undefined && !BALANCERS.includes(opts.balancer)) {
    throw new MachineroomError('ERR_CONFIG_INVALID', `frontdoor.balancer: expected one of ${BALANCERS.join(', ')}, got "${String(opts.balancer)}"`);
  }
  for (const r of opts.routes ?? []) {
    for (const p of r.paths ?? []) {
      if (!p.startsWith('/')) throw new MachineroomError('ERR_CONFIG_INVALID', `frontdoor.routes (${r.service}): path prefix must start with "/", got "${p}"`);
    }
  }
  return {
    store: opts.store,
    project: opts.project.toLowerCase(),
    domain: (opts.domain ?? 'consul').toLowerCase(),
    routes: opts.routes ?? [],
    balancer: opts.balancer ?? 'least-conn',
    sticky: opts.sticky ?? {},
    timeouts: {
      connectMs: nonNegative('timeouts.connectMs', opts.timeouts?.connectMs, 5000),
      idleMs: nonNegative('timeouts.idleMs', opts.timeouts?.idleMs, 60_000),
      totalMs: nonNegative('timeouts.totalMs', opts.timeouts?.totalMs, 0),
    },
    maxFails: opts.maxFails ?? 3,
    failTimeoutMs: nonNegative('failTimeoutMs', opts.failTimeoutMs, 10_000),
    drainTimeoutMs: nonNegative('drainTimeoutMs', opts.drainTimeoutMs, 30_000),
  };
}
