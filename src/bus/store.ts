// The bus store: catalog, health and one index, in memory. The only source of truth about what runs and whether it is healthy.
import type { CatalogNode, CatalogService, CheckStatus, HealthCheck, StoreChange } from './types.js';
import { createIndexClock } from './index-clock.js';
import type { IndexClock } from './index-clock.js';

/** Input to register a service instance (indexes are assigned by the store). */
export type ServiceInput = Omit<CatalogService, 'CreateIndex' | 'ModifyIndex' | 'Weights' | 'Owner'> &
  Partial<Pick<CatalogService, 'Weights' | 'Owner'>>;

/** Input to register a check. */
export type CheckInput = Omit<HealthCheck, 'CreateIndex' | 'ModifyIndex' | 'ServiceTags' | 'Notes' | 'Type'> &
  Partial<Pick<HealthCheck, 'Notes' | 'Type'>>;

/** The in-memory catalog with a monotonic index and change subscriptions. */
export interface BusStore {
  readonly datacenter: string;
  readonly nodeName: string;
  /** The bus-wide index this store writes with (shared with KV and sessions). */
  readonly clock: IndexClock;
  index(): number;
  registerNode(node: Pick<CatalogNode, 'Node' | 'Address'> & Partial<Pick<CatalogNode, 'Meta' | 'ID'>>): void;
  deregisterNode(name: string): void;
  registerService(svc: ServiceInput): void;
  deregisterService(serviceId: string): void;
  registerCheck(check: CheckInput): void;
  updateCheck(checkId: string, status: CheckStatus, output: string): void;
  deregisterCheck(checkId: string): void;
  nodes(): CatalogNode[];
  node(name: string): CatalogNode | undefined;
  services(): CatalogService[];
  service(serviceId: string): CatalogService | undefined;
  instancesOf(serviceName: string): CatalogService[];
  checks(): HealthCheck[];
  check(checkId: string): HealthCheck | undefined;
  checksOfService(serviceId: string): HealthCheck[];
  /** Aggregated status of an instance: the worst of its own and its node's checks (passing when it has none). */
  statusOf(serviceId: string): CheckStatus;
  subscribe(listener: (change: StoreChange) => void): () => void;
  /** Resolves when the index passes `minIndex`, or after `timeoutMs` (blocking queries). */
  waitForIndex(minIndex: number, timeoutMs: number, signal?: AbortSignal): Promise<number>;
}

const ORDER: Record<CheckStatus, number> = { passing: 0, warning: 1, critical: 2 };

/** The worse of two statuses. */
export function worstStatus(a: CheckStatus, b: CheckStatus): CheckStatus {
  return ORDER[a] >= ORDER[b] ? a : b;
}

/** Creates an empty store for an agent named `nodeName` in `datacenter`. */
export function createBusStore(opts: { nodeName: string; nodeAddress?: string; datacenter?: string; clock?: IndexClock }): BusStore {
  const datacenter = opts.datacenter ?? 'dc1';
  const clock = opts.clock ?? createIndexClock();
  const nodes = new Map<string, CatalogNode>();
  const services = new Map<string, CatalogService>();
  const checks = new Map<string, HealthCheck>();
  const listeners = new Set<(c: StoreChange) => void>();

  function bump(change: StoreChange extends infer C ? (C extends StoreChange ? Omit<C, 'index'> : never) : never): void {
    const c = { ...change, index: clock.current() } as StoreChange;
    for (const l of [...listeners]) l(c);
    clock.notify();
  }

  const nextIndex = (): number => clock.next();

  const store: BusStore = {
    datacenter,
    nodeName: opts.nodeName,
    clock,
    index: () => clock.current(),
    registerNode(n) {
      const prev = nodes.get(n.Node);
      const i = nextIndex();
      nodes.set(n.Node, {
        ID: n.ID ?? prev?.ID ?? '',
        Node: n.Node,
        Address: n.Address,
        Datacenter: datacenter,
        Meta: n.Meta ?? prev?.Meta ?? {},
        CreateIndex: prev?.CreateIndex ?? i,
        ModifyIndex: i,
      });
      bump({ kind: 'node', op: 'set', node: n.Node });
    },
    deregisterNode(name) {
      if (!nodes.has(name)) return;
      for (const s of [...services.values()]) if (s.Node === name) store.deregisterService(s.ID);
      for (const c of [...checks.values()]) if (c.Node === name) store.deregisterCheck(c.CheckID);
      nextIndex();
      nodes.delete(name);
      bump({ kind: 'node', op: 'delete', node: name });
    },
    registerService(s) {
      const prev = services.get(s.ID);
      const i = nextIndex();
      const rec: CatalogService = {
        ...s,
        Weights: s.Weights ?? { Passing: 1, Warning: 1 },
        Owner: s.Owner ?? 'supervisor',
        CreateIndex: prev?.CreateIndex ?? i,
        ModifyIndex: i,
      };
      services.set(s.ID, rec);
      bump({ kind: 'service', op: 'set', service: rec });
    },
    deregisterService(id) {
      const s = services.get(id);
      if (!s) return;
      for (const c of [...checks.values()]) if (c.ServiceID === id) store.deregisterCheck(c.CheckID);
      nextIndex();
      services.delete(id);
      bump({ kind: 'service', op: 'delete', service: s });
    },
    registerCheck(c) {
      const prev = checks.get(c.CheckID);
      const svc = c.ServiceID ? services.get(c.ServiceID) : undefined;
      const i = nextIndex();
      const rec: HealthCheck = {
        Notes: '',
        Type: '',
        ...c,
        ServiceTags: svc?.Tags ?? [],
        CreateIndex: prev?.CreateIndex ?? i,
        ModifyIndex: i,
      };
      checks.set(c.CheckID, rec);
      bump({ kind: 'check', op: 'set', check: rec, ...(prev ? { previous: prev.Status } : {}) });
    },
    updateCheck(id, status, output) {
      const prev = checks.get(id);
      if (!prev) return;
      if (prev.Status === status && prev.Output === output) return; // idempotent writes do not advance the index
      const rec = { ...prev, Status: status, Output: output, ModifyIndex: nextIndex() };
      checks.set(id, rec);
      bump({ kind: 'check', op: 'set', check: rec, previous: prev.Status });
    },
    deregisterCheck(id) {
      const c = checks.get(id);
      if (!c) return;
      nextIndex();
      checks.delete(id);
      bump({ kind: 'check', op: 'delete', check: c });
    },
    nodes: () => [...nodes.values()],
    node: (name) => nodes.get(name),
    services: () => [...services.values()],
    service: (id) => services.get(id),
    instancesOf: (name) => [...services.values()].filter((s) => s.Service === name),
    checks: () => [...checks.values()],
    check: (id) => checks.get(id),
    checksOfService: (id) => [...checks.values()].filter((c) => c.ServiceID === id),
    statusOf(id) {
      const svc = services.get(id);
      let status: CheckStatus = 'passing';
      for (const c of checks.values()) {
        if (c.ServiceID === id || (svc && c.Node === svc.Node && c.ServiceID === '')) status = worstStatus(status, c.Status);
      }
      return status;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForIndex: (minIndex, timeoutMs, signal) => clock.waitForIndex(minIndex, timeoutMs, signal),
  };
  store.registerNode({ Node: opts.nodeName, Address: opts.nodeAddress ?? '127.0.0.1' });
  return store;
}
