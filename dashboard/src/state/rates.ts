// Requests and errors per second from the front door's cumulative counters: the difference of two samples over the time
// between them, per instance and per service, with a short history per service for its sparkline.
import type { TrafficView } from '../api/wire.js';

/** Requests and errors per second. */
export interface Rate {
  rps: number;
  eps: number;
}

/** The rates of the last interval, and a history per service (oldest first). */
export interface Rates {
  instances: Record<string, Rate>;
  services: Record<string, Rate & { history: number[] }>;
  total: Rate;
}

/** How many samples a service's sparkline keeps (one a second). */
export const HISTORY = 60;

/** No rates yet. */
export const EMPTY_RATES: Rates = { instances: {}, services: {}, total: { rps: 0, eps: 0 } };

/** The rates between `prev` (taken at `prevAt`) and `next` (at `nextAt`), extending `before`'s histories. */
export function computeRates(prev: TrafficView | undefined, prevAt: number, next: TrafficView, nextAt: number, before: Rates): Rates {
  const seconds = (nextAt - prevAt) / 1000;
  const old = new Map((prev?.instances ?? []).map((i) => [i.id, i]));
  const instances: Record<string, Rate> = {};
  const services: Record<string, Rate & { history: number[] }> = {};
  const total: Rate = { rps: 0, eps: 0 };
  for (const i of next.instances) {
    const p = old.get(i.id);
    // A counter that went down was reset (a restarted front door process): count from zero.
    const dr = p && seconds > 0 ? Math.max(0, i.requests - p.requests) / seconds : 0;
    const de = p && seconds > 0 ? Math.max(0, i.errors - p.errors) / seconds : 0;
    instances[i.id] = { rps: dr, eps: de };
    const s = (services[i.service] ??= { rps: 0, eps: 0, history: [] });
    s.rps += dr;
    s.eps += de;
    total.rps += dr;
    total.eps += de;
  }
  const names = new Set([...Object.keys(services), ...Object.keys(before.services)]);
  for (const name of names) {
    const s = (services[name] ??= { rps: 0, eps: 0, history: [] });
    s.history = [...(before.services[name]?.history ?? []), s.rps].slice(-HISTORY);
  }
  return { instances, services, total };
}

/** "12.5/s", "0/s", "1.2k/s". */
export function formatRate(n: number): string {
  if (n === 0) return '0/s';
  if (n < 10) return `${n.toFixed(1)}/s`;
  if (n < 1000) return `${Math.round(n)}/s`;
  return `${(n / 1000).toFixed(1)}k/s`;
}
