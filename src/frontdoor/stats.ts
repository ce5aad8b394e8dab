// Merges per-process instance counters into one report per instance.
import type { RawInstanceStats } from './core.js';
import type { InstanceStats } from './types.js';
import { quantile } from './upstream.js';

/** Sums counters across processes; p50/p99 come from the processes' recent latencies together. */
export function mergeStats(perProcess: RawInstanceStats[][]): InstanceStats[] {
  const byId = new Map<string, { first: RawInstanceStats; parts: RawInstanceStats[] }>();
  for (const list of perProcess) {
    for (const s of list) {
      const e = byId.get(s.id);
      if (e) e.parts.push(s);
      else byId.set(s.id, { first: s, parts: [s] });
    }
  }
  return [...byId.values()].map(({ first, parts }) => {
    let n = 0;
    for (const p of parts) n += p.latencies.length;
    const all = new Float64Array(n);
    let at = 0;
    for (const p of parts) {
      all.set(p.latencies, at);
      at += p.latencies.length;
    }
    return {
      id: first.id,
      service: first.service,
      address: first.address,
      requests: parts.reduce((a, p) => a + p.requests, 0),
      errors: parts.reduce((a, p) => a + p.errors, 0),
      inFlight: parts.reduce((a, p) => a + p.inFlight, 0),
      p50: quantile(all, 0.5),
      p99: quantile(all, 0.99),
      draining: parts.some((p) => p.draining),
      ejected: parts.some((p) => p.ejected),
    };
  });
}
