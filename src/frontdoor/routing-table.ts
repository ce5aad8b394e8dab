// The routing table of one front door process: per service, its healthy (passing or warning, as Consul DNS) instances
// as upstreams with their pools and counters, replaced on every RoutingState.
import { closeIdleSockets, createUpstream } from './upstream.js';
import type { Upstream } from './upstream.js';
import type { RoutingService, RoutingState } from './routing-state.js';

/** Live view of which instances may receive traffic. */
export interface RoutingTable {
  /** Takes a new state; older versions than the one applied are ignored. */
  apply(state: RoutingState): void;
  readonly state: RoutingState;
  /** Healthy instances of a service (critical ones excluded), optionally only those with a tag. */
  healthy(service: string, tag?: string): Upstream[];
  /** Upstream state by instance ID: registered, or gone from the bus with requests still in flight. */
  upstream(id: string): Upstream | undefined;
  all(): Upstream[];
  /** The service as last published (instances with health, last check). */
  service(name: string): RoutingService | undefined;
  /** The registered or configured service name a (lower-case) host label stands for, if any. */
  resolveService(label: string): string | undefined;
  /** The daemon's control listener as an upstream, when the state names one. */
  control(): Upstream | undefined;
  close(): void;
}

/** The control listener's name as an upstream (in 502 pages and debug lines). */
const CONTROL_ID = 'machineroom';

const EMPTY: RoutingState = { version: 0, services: [], draining: [], routes: [], configured: [], accessLog: { global: false, services: {} } };

/** An empty table; apply() fills it. */
export function createRoutingTable(opts: { idleMs?: number } = {}): RoutingTable {
  const upstreams = new Map<string, Upstream>();
  // Instances gone from the bus whose requests are still in flight: a drain must still find and wait for them.
  const retiring = new Map<string, Upstream>();
  const retire = (u: Upstream): void => {
    closeIdleSockets(u);
    if (u.inFlight === 0) {
      u.pool.destroy();
      return;
    }
    retiring.set(u.id, u);
    u.idleWaiters.push(() => {
      if (retiring.get(u.id) === u) retiring.delete(u.id);
      u.pool.destroy();
    });
  };
  let healthyByService = new Map<string, Upstream[]>();
  let byName = new Map<string, RoutingService>();
  let byLabel = new Map<string, string>();
  let control: Upstream | undefined;
  let state = EMPTY;

  return {
    apply(next) {
      if (next.version !== 0 && next.version <= state.version) return;
      state = next;
      const draining = new Set(next.draining);
      const seen = new Set<string>();
      const healthy = new Map<string, Upstream[]>();
      const names = new Map<string, RoutingService>();
      const labels = new Map<string, string>();
      for (const name of next.configured) labels.set(name.toLowerCase(), name);
      for (const svc of next.services) {
        names.set(svc.name, svc);
        labels.set(svc.name.toLowerCase(), svc.name);
        const list: Upstream[] = [];
        for (const inst of svc.instances) {
          seen.add(inst.id);
          let u = upstreams.get(inst.id);
          if (!u || u.address !== inst.address || u.port !== inst.port) {
            if (u) retire(u);
            u = createUpstream(inst, opts.idleMs ?? 0);
            upstreams.set(inst.id, u);
          }
          u.tags = inst.tags;
          u.weight = inst.weight;
          const wasDraining = u.draining;
          u.draining = draining.has(inst.id);
          if (u.draining && !wasDraining) closeIdleSockets(u);
          if (inst.status !== 'critical') list.push(u);
        }
        healthy.set(svc.name, list);
      }
      for (const [id, u] of upstreams) {
        if (!seen.has(id)) {
          upstreams.delete(id);
          retire(u);
        }
      }
      healthyByService = healthy;
      byName = names;
      byLabel = labels;
      const target = next.control;
      if (control && (!target || control.address !== target.address || control.port !== target.port)) {
        retire(control);
        control = undefined;
      }
      if (target && !control) control = createUpstream({ id: CONTROL_ID, service: CONTROL_ID, address: target.address, port: target.port, tags: [], weight: 1 }, opts.idleMs ?? 0);
    },
    get state() {
      return state;
    },
    healthy(service, tag) {
      const list = healthyByService.get(service) ?? [];
      if (tag === undefined) return list;
      return list.filter((u) => u.tags.some((t) => t.toLowerCase() === tag));
    },
    upstream: (id) => upstreams.get(id) ?? retiring.get(id),
    all: () => [...upstreams.values()],
    service: (name) => byName.get(name),
    resolveService: (label) => byLabel.get(label),
    control: () => control,
    close() {
      for (const u of [...upstreams.values(), ...retiring.values()]) u.pool.destroy();
      control?.pool.destroy();
      control = undefined;
      upstreams.clear();
      retiring.clear();
      healthyByService.clear();
      byName.clear();
      byLabel.clear();
    },
  };
}
