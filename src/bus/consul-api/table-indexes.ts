// Consul's table indexes for catalog and health reads: the index a blocking query reports moves only when something it
// lists changed (a node, a service of that name, a check on it), deletions included, and never goes backwards.
import type { BusStore, StoreChange } from '../index.js';

/** The indexes of the catalog's tables and of each service name and node. */
export interface TableIndexes {
  nodes(): number;
  services(): number;
  checks(): number;
  /** The index of everything health/service and catalog/service list for `name` (its instances, their nodes and checks). */
  ofServiceName(name: string): number;
  /** The index of a node, its services and its checks. */
  ofNode(name: string): number;
  close(): void;
}

/** Follows `store`'s changes from now on (everything present starts at the store's current index). */
export function trackTableIndexes(store: BusStore): TableIndexes {
  const start = store.index();
  let nodes = start;
  let services = start;
  let checks = start;
  const byServiceName = new Map<string, number>();
  const byNode = new Map<string, number>();
  const nameOfService = new Map<string, string>();
  for (const s of store.services()) {
    byServiceName.set(s.Service, start);
    nameOfService.set(s.ID, s.Service);
  }
  for (const n of store.nodes()) byNode.set(n.Node, start);

  const bumpServicesOnNode = (node: string, index: number) => {
    for (const s of store.services()) if (s.Node === node) byServiceName.set(s.Service, index);
  };

  const unsubscribe = store.subscribe((change: StoreChange) => {
    const index = change.index;
    switch (change.kind) {
      case 'node':
        nodes = index;
        byNode.set(change.node, index);
        bumpServicesOnNode(change.node, index);
        break;
      case 'service': {
        services = index;
        const previous = nameOfService.get(change.service.ID);
        if (previous !== undefined && previous !== change.service.Service) byServiceName.set(previous, index);
        byServiceName.set(change.service.Service, index);
        if (change.op === 'set') nameOfService.set(change.service.ID, change.service.Service);
        else nameOfService.delete(change.service.ID);
        byNode.set(change.service.Node, index);
        break;
      }
      case 'check':
        checks = index;
        byNode.set(change.check.Node, index);
        if (change.check.ServiceName) byServiceName.set(change.check.ServiceName, index);
        // A node-level check's status is part of every instance on that node.
        if (!change.check.ServiceID) bumpServicesOnNode(change.check.Node, index);
        break;
    }
  });

  return {
    nodes: () => nodes,
    services: () => services,
    checks: () => checks,
    ofServiceName: (name) => byServiceName.get(name) ?? services,
    ofNode: (name) => byNode.get(name) ?? Math.max(nodes, services, checks),
    close: () => void unsubscribe(),
  };
}
