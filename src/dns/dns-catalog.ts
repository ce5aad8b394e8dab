// The DNS server's view of the bus store: services and nodes indexed by lower-case name, kept current from
// store.subscribe, so a query never scans the whole catalog. Health is read through store.statusOf (the one
// definition of an instance's health) and re-read only after a change that can move it; nothing here caches answers.
import type { BusStore, CatalogNode, CatalogService, CheckStatus, StoreChange } from '../bus/index.js';
import { parseIp } from './ip-bytes.js';

/** A node as DNS needs it. */
export interface DnsNode {
  readonly record: CatalogNode;
  /** Its address's bytes, or undefined when the address is a hostname (or empty). */
  readonly ip: Uint8Array | undefined;
  /** Node meta as TXT strings (RFC 1464 "key=value"; keys prefixed "rfc1035-" give the value only, as Consul does). */
  readonly txt: readonly string[];
}

/** One service instance as DNS needs it. */
export interface DnsInstance {
  readonly record: CatalogService;
  /** Tags in lower case, for case-insensitive tag filters. */
  readonly tags: readonly string[];
  /** Its node's name in lower case (the node index key). */
  readonly nodeKey: string;
  /** The address answers use: the instance's own, else its node's (read through `addressOf`). */
  address: string;
  /** That address's bytes (undefined for a hostname). */
  ip: Uint8Array | undefined;
  status: CheckStatus;
  /** Set when a change may have moved `status`; cleared when it is read again from the store. */
  stale: boolean;
}

/** The indexed catalog the resolver reads. */
export interface DnsCatalog {
  readonly datacenter: string;
  /** The agent's own node (the name server in NS and SOA answers). */
  readonly agentNode: string;
  /** Instances of a service by lower-case name, in registration order; undefined when none is registered. */
  instancesOf(serviceLower: string): readonly DnsInstance[] | undefined;
  /** A node by lower-case name. */
  node(nameLower: string): DnsNode | undefined;
  /** The node an instance runs on. */
  nodeOf(inst: DnsInstance): DnsNode | undefined;
  /** The instance's current health (re-read from the store only after a relevant change). */
  statusOf(inst: DnsInstance): CheckStatus;
  /** Refreshes and returns the instance's effective address (its own, else its node's). */
  addressOf(inst: DnsInstance): string;
  /** Every node, for reverse lookups. */
  allNodes(): Iterable<DnsNode>;
  /** Every instance, for reverse lookups. */
  allInstances(): Iterable<DnsInstance>;
  /** Stops following the store. */
  close(): void;
}

function txtOf(meta: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(meta)) out.push(k.startsWith('rfc1035-') ? v : `${k}=${v}`);
  return out;
}

function toNode(record: CatalogNode): DnsNode {
  return { record, ip: parseIp(record.Address), txt: txtOf(record.Meta) };
}

function toInstance(record: CatalogService): DnsInstance {
  return { record, tags: record.Tags.map((t) => t.toLowerCase()), nodeKey: record.Node.toLowerCase(), address: '\0', ip: undefined, status: 'passing', stale: true };
}

/** Indexes a store for DNS and follows its changes until `close()`. */
export function createDnsCatalog(store: BusStore): DnsCatalog {
  const nodes = new Map<string, DnsNode>();
  const byId = new Map<string, DnsInstance>();
  const byName = new Map<string, DnsInstance[]>();

  const addInstance = (inst: DnsInstance): void => {
    const key = inst.record.Service.toLowerCase();
    const list = byName.get(key);
    byName.set(key, list ? [...list, inst] : [inst]);
  };
  const removeInstance = (inst: DnsInstance): void => {
    const key = inst.record.Service.toLowerCase();
    const list = byName.get(key)?.filter((i) => i !== inst) ?? [];
    if (list.length) byName.set(key, list);
    else byName.delete(key);
  };
  const setService = (record: CatalogService): void => {
    const prev = byId.get(record.ID);
    const next = toInstance(record);
    byId.set(record.ID, next);
    if (prev && prev.record.Service.toLowerCase() === record.Service.toLowerCase()) {
      const key = record.Service.toLowerCase();
      byName.set(key, byName.get(key)!.map((i) => (i === prev ? next : i)));
    } else {
      if (prev) removeInstance(prev);
      addInstance(next);
    }
  };
  const markNodeStale = (nodeName: string): void => {
    for (const inst of byId.values()) if (inst.record.Node === nodeName) inst.stale = true;
  };

  const onChange = (change: StoreChange): void => {
    switch (change.kind) {
      case 'node': {
        if (change.op === 'set') {
          const record = store.node(change.node);
          if (record) nodes.set(record.Node.toLowerCase(), toNode(record));
        } else if (nodes.get(change.node.toLowerCase())?.record.Node === change.node) {
          nodes.delete(change.node.toLowerCase());
        }
        return;
      }
      case 'service': {
        if (change.op === 'set') setService(change.service);
        else {
          const prev = byId.get(change.service.ID);
          if (prev) {
            byId.delete(change.service.ID);
            removeInstance(prev);
          }
        }
        return;
      }
      case 'check': {
        const id = change.check.ServiceID;
        if (id) {
          const inst = byId.get(id);
          if (inst) inst.stale = true;
        } else {
          markNodeStale(change.check.Node);
        }
        return;
      }
      default: {
        const never: never = change;
        return never;
      }
    }
  };

  for (const n of store.nodes()) nodes.set(n.Node.toLowerCase(), toNode(n));
  for (const s of store.services()) setService(s);
  const unsubscribe = store.subscribe(onChange);

  const nodeOf = (inst: DnsInstance): DnsNode | undefined => nodes.get(inst.nodeKey);

  return {
    datacenter: store.datacenter,
    agentNode: store.nodeName,
    instancesOf: (serviceLower) => byName.get(serviceLower),
    node: (nameLower) => nodes.get(nameLower),
    nodeOf,
    statusOf(inst) {
      if (inst.stale) {
        inst.stale = false;
        inst.status = store.statusOf(inst.record.ID);
      }
      return inst.status;
    },
    addressOf(inst) {
      const address = inst.record.Address || nodeOf(inst)?.record.Address || '';
      if (address !== inst.address) {
        inst.address = address;
        inst.ip = parseIp(address);
      }
      return address;
    },
    allNodes: () => nodes.values(),
    allInstances: () => byId.values(),
    close: unsubscribe,
  };
}
