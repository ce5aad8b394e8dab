// The routing table: per service, its healthy (passing or warning, as Consul DNS) instances, kept current from store.subscribe.
import type { BusStore, StoreChange } from '../bus/index.js';
import { closeIdleSockets, createUpstream } from './upstream.js';
import type { Upstream } from './upstream.js';

/** Live view of which instances may receive traffic. */
export interface RoutingTable {
  /** Healthy instances of a service (critical ones excluded), optionally only those with a tag. */
  healthy(service: string, tag?: string): Upstream[];
  /** Upstream state by instance ID (present while the instance is registered). */
  upstream(id: string): Upstream | undefined;
  all(): Upstream[];
  /** The registered service name a (lower-case) host label stands for, if any. */
  resolveService(label: string): string | undefined;
  close(): void;
}

/** Builds the table from the store and follows its changes (no polling). */
export function createRoutingTable(store: BusStore): RoutingTable {
  const upstreams = new Map<string, Upstream>();
  const healthyByService = new Map<string, Upstream[]>();
  const byLabel = new Map<string, string>();

  const rebuild = (name: string): void => {
    const list: Upstream[] = [];
    const seen = new Set<string>();
    for (const svc of store.instancesOf(name)) {
      seen.add(svc.ID);
      let u = upstreams.get(svc.ID);
      if (!u) {
        u = createUpstream(svc);
        upstreams.set(svc.ID, u);
      }
      u.address = svc.Address;
      u.port = svc.Port;
      u.tags = svc.Tags;
      const status = store.statusOf(svc.ID);
      if (status === 'critical') continue;
      u.weight = Math.max(1, status === 'warning' ? (svc.Weights?.Warning ?? 1) : (svc.Weights?.Passing ?? 1));
      list.push(u);
    }
    for (const [id, u] of upstreams) {
      if (u.service === name && !seen.has(id)) {
        upstreams.delete(id);
        closeIdleSockets(u);
        if (u.inFlight === 0) u.agent.destroy();
        else u.idleWaiters.push(() => u.agent.destroy());
      }
    }
    if (seen.size > 0) {
      healthyByService.set(name, list);
      byLabel.set(name.toLowerCase(), name);
    } else {
      healthyByService.delete(name);
      if (byLabel.get(name.toLowerCase()) === name) byLabel.delete(name.toLowerCase());
    }
  };

  const rebuildAll = (): void => {
    const names = new Set(store.services().map((s) => s.Service));
    for (const name of healthyByService.keys()) names.add(name);
    for (const name of names) rebuild(name);
  };

  const onChange = (change: StoreChange): void => {
    if (change.kind === 'service') rebuild(change.service.Service);
    else if (change.kind === 'check' && change.check.ServiceName) rebuild(change.check.ServiceName);
    else rebuildAll();
  };

  const unsubscribe = store.subscribe(onChange);
  rebuildAll();

  return {
    healthy(service, tag) {
      const list = healthyByService.get(service) ?? [];
      if (tag === undefined) return list;
      return list.filter((u) => u.tags.some((t) => t.toLowerCase() === tag));
    },
    upstream: (id) => upstreams.get(id),
    all: () => [...upstreams.values()],
    resolveService: (label) => byLabel.get(label),
    close() {
      unsubscribe();
      for (const u of upstreams.values()) u.agent.destroy();
      upstreams.clear();
      healthyByService.clear();
      byLabel.clear();
    },
  };
}
