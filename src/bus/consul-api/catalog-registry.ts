// catalog/register and catalog/deregister: external nodes, services and (not executed) checks written straight to the
// catalog, as Consul's catalog endpoints do, and kept durable per node. What the agent or the supervisor owns is
// left alone, as Consul's anti-entropy would restore it.
import type { CheckStatus } from '../index.js';
import { badRequest, rpcError } from './consul-error.js';
import { FieldReader, isObject } from './decode-fields.js';
import { decodeServiceFields, isAnyAddress, metaProblem } from './service-definition.js';
import type { ApiContext } from './api-context.js';

/** A service registered through the catalog. */
interface CatalogServiceDef {
  ID: string;
  Service: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  Weights: { Passing: number; Warning: number };
  EnableTagOverride: boolean;
  TaggedAddresses: Record<string, { Address: string; Port: number }>;
}

/** A check registered through the catalog (a record; nothing runs it). */
interface CatalogCheckDef {
  CheckID: string;
  Name: string;
  Status: CheckStatus;
  Notes: string;
  Output: string;
  ServiceID: string;
  Definition: Record<string, unknown>;
}

/** The durable record of what the catalog API put on one node. */
export interface CatalogRecord {
  type: 'catalog-node';
  /** The node itself when the catalog API created it (null: the node belongs to the agent or the supervisor). */
  node: { Node: string; Address: string; ID: string; Meta: Record<string, string>; TaggedAddresses?: Record<string, string> } | null;
  services: Record<string, CatalogServiceDef>;
  checks: Record<string, CatalogCheckDef>;
}

const recordKey = (node: string) => `catalog-node:${node}`;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The catalog API's writes. */
export interface CatalogRegistry {
  register(body: unknown): Promise<void>;
  deregister(body: unknown): Promise<void>;
  restore(records: { id: string; record: unknown }[]): void;
}

function decodeCheckDef(r: FieldReader, node: string): CatalogCheckDef & { Node: string } {
  const name = r.string('Name') ?? '';
  const status = r.string('Status') || 'critical';
  if (status !== 'passing' && status !== 'warning' && status !== 'critical') throw badRequest(`Invalid check status ${JSON.stringify(status)}: expected passing, warning or critical`);
  const definition = r.raw('Definition');
  const def = {
    Node: r.string('Node') || node,
    CheckID: r.string('CheckID', 'ID') || name,
    Name: name,
    Status: status as CheckStatus,
    Notes: r.string('Notes') ?? '',
    Output: r.string('Output') ?? '',
    ServiceID: r.string('ServiceID') ?? '',
    Definition: isObject(definition) ? definition : {},
  };
  if (!def.CheckID) throw badRequest('Missing check ID');
  return def;
}

/** Creates the catalog registry over the shared context. */
export function createCatalogRegistry(ctx: ApiContext): CatalogRegistry {
  const records = new Map<string, CatalogRecord>();

  const ownedService = (node: string, id: string) => records.get(node)?.services[id] !== undefined;
  const ownedCheck = (node: string, id: string) => records.get(node)?.checks[id] !== undefined;

  function applyService(node: string, s: CatalogServiceDef): void {
    ctx.serviceExtras.set(s.ID, { Kind: '', EnableTagOverride: s.EnableTagOverride, TaggedAddresses: s.TaggedAddresses });
    ctx.store.registerService({ ID: s.ID, Service: s.Service, Tags: [...s.Tags], Address: s.Address, Port: s.Port, Meta: { ...s.Meta }, Node: node, Weights: { ...s.Weights }, Owner: 'api' });
  }

  function applyCheck(node: string, c: CatalogCheckDef): void {
    const d = c.Definition as { Interval?: unknown; Timeout?: unknown };
    ctx.checkViews.set(c.CheckID, {
      Type: '',
      Notes: c.Notes,
      Interval: typeof d.Interval === 'string' ? d.Interval : '',
      Timeout: typeof d.Timeout === 'string' ? d.Timeout : '',
      Definition: c.Definition,
    });
    ctx.store.registerCheck({
      Node: node,
      CheckID: c.CheckID,
      Name: c.Name,
      Status: c.Status,
      Output: c.Output,
      Notes: c.Notes,
      ServiceID: c.ServiceID,
      ServiceName: c.ServiceID ? (ctx.store.service(c.ServiceID)?.Service ?? '') : '',
      Type: '',
    });
  }

  function applyRecord(rec: CatalogRecord, nodeName: string): void {
    if (rec.node) {
      ctx.store.registerNode({ Node: rec.node.Node, Address: rec.node.Address, ID: rec.node.ID, Meta: { ...rec.node.Meta } });
      if (rec.node.TaggedAddresses) ctx.nodeTaggedAddresses.set(rec.node.Node, rec.node.TaggedAddresses);
    }
    for (const s of Object.values(rec.services)) applyService(nodeName, s);
    for (const c of Object.values(rec.checks)) applyCheck(nodeName, c);
  }

  function removeService(node: string, id: string): void {
    const rec = records.get(node);
    if (rec) {
      delete rec.services[id];
      for (const [checkId, c] of Object.entries(rec.checks)) if (c.ServiceID === id) delete rec.checks[checkId];
    }
    ctx.store.deregisterService(id);
    ctx.serviceExtras.delete(id);
  }

  async function save(node: string, rec: CatalogRecord): Promise<void> {
    if (!rec.node && Object.keys(rec.services).length === 0 && Object.keys(rec.checks).length === 0) {
      await ctx.registrations.delete(recordKey(node));
      records.delete(node);
    } else {
      await ctx.registrations.put(recordKey(node), rec);
      records.set(node, rec);
    }
  }

  return {
    register: (body) =>
      ctx.serialize(async () => {
        const r = FieldReader.of(body, '');
        const nodeName = r.string('Node') ?? '';
        const address = r.string('Address') ?? '';
        const id = r.string('ID') ?? '';
        const dc = r.string('Datacenter') ?? '';
        const skipNodeUpdate = r.bool('SkipNodeUpdate') ?? false;
        const meta = r.stringMap('NodeMeta') ?? {};
        const tagged = r.stringMap('TaggedAddresses');
        const svc = r.object('Service');
        const checkReaders = [...(r.object('Check') ? [r.object('Check')!] : []), ...(r.objects('Checks') ?? [])];

        if (dc && dc !== ctx.agent.datacenter) throw rpcError('No path to datacenter');
        if (!nodeName) throw badRequest('Must provide node');
        const existing = ctx.store.node(nodeName);
        if (!address && !skipNodeUpdate) throw badRequest('Must provide address');
        if (!existing && !address) throw badRequest(`Node ${JSON.stringify(nodeName)} is not registered; provide its Address`);
        if (id && !UUID.test(id)) throw badRequest(`Bad node ID: uuid string is wrong length or format: ${JSON.stringify(id)}`);
        const metaIssue = metaProblem(meta);
        if (metaIssue) throw badRequest(`Invalid node metadata: ${metaIssue}`);

        const previous = records.get(nodeName);
        const rec: CatalogRecord = previous ? structuredClone(previous) : { type: 'catalog-node', node: null, services: {}, checks: {} };
        // The agent's node and the supervisor's machines keep their own records; only catalog-made nodes are updated.
        const ownsNode = nodeName !== ctx.agent.nodeName && (!existing || (previous !== undefined && previous.node !== null));
        // SkipNodeUpdate keeps an existing node as it is; a node that does not exist yet is created all the same.
        const updateNode = ownsNode && (!skipNodeUpdate || !existing);
        if (updateNode) {
          rec.node = { Node: nodeName, Address: address, ID: id || existing?.ID || '', Meta: meta, ...(tagged ? { TaggedAddresses: tagged } : {}) };
        }

        const changed: { service?: CatalogServiceDef; checks: CatalogCheckDef[] } = { checks: [] };
        if (svc) {
          const { Name: name, ...fields } = decodeServiceFields(svc, 'Service');
          if (!name) throw badRequest('Must provide service name');
          const s: CatalogServiceDef = { ...fields, Service: name };
          const w = svc.object('Weights');
          if (w) s.Weights = { Passing: w.int('Passing') ?? 1, Warning: w.int('Warning') ?? 1 };
          if (isAnyAddress(s.Address)) throw badRequest('Invalid service address');
          const problem = metaProblem(s.Meta);
          if (problem) throw badRequest(`Invalid service metadata: ${problem}`);
          const clash = ctx.store.service(s.ID);
          if (clash && !ownedService(nodeName, s.ID)) {
            throw badRequest(`Service ID ${JSON.stringify(s.ID)} is already registered on node ${JSON.stringify(clash.Node)}; machineroom keys services by ID across nodes, choose another ID`);
          }
          rec.services[s.ID] = s;
          changed.service = s;
        }
        for (const cr of checkReaders) {
          const { Node: checkNode, ...c } = decodeCheckDef(cr, nodeName);
          if (checkNode !== nodeName) throw badRequest(`Check ${JSON.stringify(c.CheckID)} is for node ${JSON.stringify(checkNode)}, not ${JSON.stringify(nodeName)}`);
          if (c.ServiceID && !rec.services[c.ServiceID] && ctx.store.service(c.ServiceID)?.Node !== nodeName) {
            throw badRequest(`Check ${JSON.stringify(c.CheckID)} refers to missing service ${JSON.stringify(c.ServiceID)} on node ${JSON.stringify(nodeName)}`);
          }
          const clash = ctx.store.check(c.CheckID);
          if (clash && !ownedCheck(nodeName, c.CheckID)) {
            throw badRequest(`Check ID ${JSON.stringify(c.CheckID)} is already registered on node ${JSON.stringify(clash.Node)}; machineroom keys checks by ID across nodes, choose another ID`);
          }
          rec.checks[c.CheckID] = c;
          changed.checks.push(c);
        }

        await save(nodeName, rec);
        applyRecord({ ...rec, node: updateNode ? rec.node : null, services: {}, checks: {} }, nodeName);
        if (changed.service) applyService(nodeName, changed.service);
        for (const c of changed.checks) applyCheck(nodeName, c);
      }),

    deregister: (body) =>
      ctx.serialize(async () => {
        const r = FieldReader.of(body, '');
        const nodeName = r.string('Node') ?? '';
        const serviceId = r.string('ServiceID') ?? '';
        const checkId = r.string('CheckID') ?? '';
        const dc = r.string('Datacenter') ?? '';
        if (dc && dc !== ctx.agent.datacenter) throw rpcError('No path to datacenter');
        if (!nodeName) throw badRequest('Must provide node');
        const rec = records.get(nodeName);
        if (!rec) return; // the agent's or the supervisor's: anti-entropy would put it back
        const next = structuredClone(rec);
        if (serviceId) {
          if (!next.services[serviceId]) return;
          delete next.services[serviceId];
          for (const [id, c] of Object.entries(next.checks)) if (c.ServiceID === serviceId) delete next.checks[id];
          await save(nodeName, next);
          removeService(nodeName, serviceId);
        } else if (checkId) {
          if (!next.checks[checkId]) return;
          delete next.checks[checkId];
          await save(nodeName, next);
          ctx.checkViews.delete(checkId);
          ctx.store.deregisterCheck(checkId);
        } else {
          await ctx.registrations.delete(recordKey(nodeName));
          records.delete(nodeName);
          for (const id of Object.keys(rec.services)) removeService(nodeName, id);
          for (const id of Object.keys(rec.checks)) {
            ctx.checkViews.delete(id);
            ctx.store.deregisterCheck(id);
          }
          if (rec.node) {
            ctx.nodeTaggedAddresses.delete(nodeName);
            ctx.store.deregisterNode(nodeName);
          }
        }
      }),

    restore(all) {
      for (const { id, record } of all) {
        if (!isObject(record) || record.type !== 'catalog-node' || !id.startsWith('catalog-node:')) continue;
        const nodeName = id.slice('catalog-node:'.length);
        const rec = record as unknown as CatalogRecord;
        records.set(nodeName, rec);
        applyRecord(rec, nodeName);
      }
    },
  };
}
