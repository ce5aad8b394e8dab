// Renders store records in Consul's JSON shapes: Node, NodeService, CatalogService (ServiceNode), AgentService,
// HealthCheck. Lists are never null; tags, meta and checks are [] / {} when empty, as Consul's endpoints make them.
import { isIP } from 'node:net';
import type { CatalogNode, CatalogService, HealthCheck } from '../index.js';
import type { ApiContext } from './api-context.js';

const PROXY = () => ({ Mode: '', MeshGateway: {}, Expose: {} });

/** A node's tagged addresses: as registered, else Consul's defaults (lan/wan and their ipv4/ipv6 forms). */
export function nodeTaggedAddresses(ctx: ApiContext, node: Pick<CatalogNode, 'Node' | 'Address'>): Record<string, string> {
  const given = ctx.nodeTaggedAddresses.get(node.Node);
  if (given) return given;
  const family = isIP(node.Address);
  const out: Record<string, string> = { lan: node.Address };
  if (family === 4) out.lan_ipv4 = node.Address;
  if (family === 6) out.lan_ipv6 = node.Address;
  out.wan = node.Address;
  if (family === 4) out.wan_ipv4 = node.Address;
  if (family === 6) out.wan_ipv6 = node.Address;
  return out;
}

/** The node a service is on, or a stand-in when the store has no record of it. */
export function nodeOf(ctx: ApiContext, svc: Pick<CatalogService, 'Node' | 'Address'>): CatalogNode {
  return ctx.store.node(svc.Node) ?? { ID: '', Node: svc.Node, Address: svc.Address, Datacenter: ctx.agent.datacenter, Meta: {}, CreateIndex: 0, ModifyIndex: 0 };
}

/** Consul's Node. */
export function renderNode(ctx: ApiContext, node: CatalogNode) {
  return {
    ID: node.ID,
    Node: node.Node,
    Address: node.Address,
    Datacenter: ctx.agent.datacenter,
    TaggedAddresses: nodeTaggedAddresses(ctx, node),
    Meta: { ...node.Meta },
    CreateIndex: node.CreateIndex,
    ModifyIndex: node.ModifyIndex,
  };
}

function extrasOf(ctx: ApiContext, id: string) {
  return ctx.serviceExtras.get(id) ?? { Kind: '', EnableTagOverride: false, TaggedAddresses: {} };
}

/** Consul's NodeService (catalog/node's Services, health/service's Service). */
export function renderNodeService(ctx: ApiContext, svc: CatalogService) {
  const extras = extrasOf(ctx, svc.ID);
  return {
    ...(extras.Kind ? { Kind: extras.Kind } : {}),
    ID: svc.ID,
    Service: svc.Service,
    Tags: [...(svc.Tags ?? [])],
    Address: svc.Address,
    ...(Object.keys(extras.TaggedAddresses).length ? { TaggedAddresses: extras.TaggedAddresses } : {}),
    Meta: { ...svc.Meta },
    Port: svc.Port,
    Weights: { ...svc.Weights },
    EnableTagOverride: extras.EnableTagOverride,
    Proxy: PROXY(),
    Connect: {},
    CreateIndex: svc.CreateIndex,
    ModifyIndex: svc.ModifyIndex,
  };
}

/** Consul's ServiceNode (catalog/service/:name). */
export function renderCatalogService(ctx: ApiContext, svc: CatalogService) {
  const node = nodeOf(ctx, svc);
  const extras = extrasOf(ctx, svc.ID);
  return {
    ID: node.ID,
    Node: node.Node,
    Address: node.Address,
    Datacenter: ctx.agent.datacenter,
    TaggedAddresses: nodeTaggedAddresses(ctx, node),
    NodeMeta: { ...node.Meta },
    ServiceKind: extras.Kind,
    ServiceID: svc.ID,
    ServiceName: svc.Service,
    ServiceTags: [...(svc.Tags ?? [])],
    ServiceAddress: svc.Address,
    ...(Object.keys(extras.TaggedAddresses).length ? { ServiceTaggedAddresses: extras.TaggedAddresses } : {}),
    ServiceWeights: { ...svc.Weights },
    ServiceMeta: { ...svc.Meta },
    ServicePort: svc.Port,
    ServiceSocketPath: '',
    ServiceEnableTagOverride: extras.EnableTagOverride,
    ServiceProxy: PROXY(),
    ServiceConnect: {},
    CreateIndex: svc.CreateIndex,
    ModifyIndex: svc.ModifyIndex,
  };
}

/** Consul's AgentService (agent/services, agent/service/:id); like the agent's local state, it has no Raft indexes. */
export function renderAgentService(ctx: ApiContext, svc: CatalogService) {
  const extras = extrasOf(ctx, svc.ID);
  return {
    ...(extras.Kind ? { Kind: extras.Kind } : {}),
    ID: svc.ID,
    Service: svc.Service,
    Tags: [...(svc.Tags ?? [])],
    Meta: { ...svc.Meta },
    Port: svc.Port,
    Address: svc.Address,
    ...(Object.keys(extras.TaggedAddresses).length ? { TaggedAddresses: extras.TaggedAddresses } : {}),
    Weights: { ...svc.Weights },
    EnableTagOverride: extras.EnableTagOverride,
    Datacenter: ctx.agent.datacenter,
  };
}

const TYPE_NAMES: Record<string, string> = { cmd: 'script' };

/** Consul's HealthCheck; ServiceTags are the service's current tags, never null. */
export function renderCheck(ctx: ApiContext, check: HealthCheck) {
  const view = ctx.checkViews.get(check.CheckID);
  const tags = check.ServiceID ? (ctx.store.service(check.ServiceID)?.Tags ?? check.ServiceTags) : check.ServiceTags;
  return {
    Node: check.Node,
    CheckID: check.CheckID,
    Name: check.Name,
    Status: check.Status,
    Notes: check.Notes || view?.Notes || '',
    Output: check.Output,
    ServiceID: check.ServiceID,
    ServiceName: check.ServiceName,
    ServiceTags: [...(tags ?? [])],
    Type: view?.Type ?? TYPE_NAMES[check.Type] ?? check.Type,
    Interval: view?.Interval ?? '',
    Timeout: view?.Timeout ?? '',
    ExposedPort: 0,
    Definition: { ...(view?.Definition ?? {}) },
    CreateIndex: check.CreateIndex,
    ModifyIndex: check.ModifyIndex,
  };
}

/** Byte-order comparison, as Go sorts strings. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Checks in Consul's order: by node, then check ID. */
export function sortChecks(checks: HealthCheck[]): HealthCheck[] {
  return [...checks].sort((a, b) => compareStrings(a.Node, b.Node) || compareStrings(a.CheckID, b.CheckID));
}

/** Moves entries on the `near` node first (its distance to itself is 0; every machine here shares one host). */
export function sortNear<T>(items: T[], near: string | undefined, nodeOfItem: (item: T) => string): T[] {
  if (!near) return items;
  return [...items.filter((i) => nodeOfItem(i) === near), ...items.filter((i) => nodeOfItem(i) !== near)];
}

/** Whether a node carries every ?node-meta pair. */
export function matchesNodeMeta(node: CatalogNode | undefined, pairs: [string, string][]): boolean {
  if (pairs.length === 0) return true;
  return pairs.every(([k, v]) => node?.Meta[k] === v);
}
