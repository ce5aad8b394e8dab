// The agent's local state: services and checks registered through /v1/agent, run by the health checker, written to the
// catalog on the agent's node (Owner 'api') and made durable in the RegistrationStore before the API answers.
import type { CatalogService, CheckStatus, HealthCheck } from '../index.js';
import type { CheckSpec } from '../../health/index.js';
import { createLogger } from '../../log/index.js';
import { badRequest, notFound, rpcError } from './consul-error.js';
import { viewOfCheck } from './check-definition.js';
import type { CheckDef } from './check-definition.js';
import type { ServiceDef } from './service-definition.js';
import type { ApiContext } from './api-context.js';

const log = createLogger('consul-api');

/** Consul's default maintenance reasons. */
const SERVICE_MAINT_REASON = 'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.';
const NODE_MAINT_REASON = 'Maintenance mode is enabled for this node, but no reason was provided. This is a default message.';
/** The node maintenance check's ID. */
export const NODE_MAINT_CHECK = '_node_maintenance';
/** The prefix of a service maintenance check's ID (followed by the service ID). */
export const SERVICE_MAINT_PREFIX = '_service_maintenance:';
/** Consul's cap on check output (OutputMaxSize default). */
const MAX_OUTPUT = 4096;

/** A durable record of the agent's state (what restore() replays). */
export type AgentRecord =
  | { type: 'agent-service'; service: ServiceDef }
  | { type: 'agent-check'; check: CheckDef }
  | { type: 'agent-maintenance'; checkId: string; serviceId: string; reason: string };

type AgentCheck = { kind: 'check'; def: CheckDef } | { kind: 'maintenance'; serviceId: string; reason: string };

const serviceKey = (id: string) => `agent-service:${id}`;
const checkKey = (id: string) => `agent-check:${id}`;

/** The agent's services and checks. */
export interface AgentRegistry {
  agentServices(): CatalogService[];
  agentService(id: string): CatalogService | undefined;
  agentChecks(): HealthCheck[];
  registerService(service: ServiceDef, checks: CheckDef[], replaceExistingChecks: boolean): Promise<void>;
  deregisterService(id: string): Promise<void>;
  registerCheck(check: CheckDef): Promise<void>;
  deregisterCheck(id: string): Promise<void>;
  /** check/pass|warn|fail|update: records a TTL check's status and restarts its TTL. */
  updateTtl(id: string, status: CheckStatus, output: string): void;
  setServiceMaintenance(id: string, enable: boolean, reason: string): Promise<void>;
  setNodeMaintenance(enable: boolean, reason: string): Promise<void>;
  /** Replays durable records (no writes back). */
  restore(records: { id: string; record: unknown }[]): void;
  close(): void;
}

/** Unknown-service error worded as Consul's agent words it. */
export function unknownService(id: string) {
  return notFound(`Unknown service ID ${JSON.stringify(id)}. Ensure that the service ID is passed, not the service name.`);
}

/** Unknown-check error worded as Consul's agent words it. */
export function unknownCheck(id: string) {
  return notFound(`Unknown check ID ${JSON.stringify(id)}. Ensure that the check ID is passed, not the check name.`);
}

function sameDef(a: CheckDef, b: CheckDef): boolean {
  const { Status: _a, ...restA } = a;
  const { Status: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}

/** Creates the registry over the shared context. */
export function createAgentRegistry(ctx: ApiContext): AgentRegistry {
  const services = new Map<string, ServiceDef>();
  const checks = new Map<string, AgentCheck>();
  const node = ctx.agent.nodeName;

  function specOf(def: CheckDef, serviceName: string, initialStatus: CheckStatus | undefined): CheckSpec {
    const base = {
      checkId: def.CheckID,
      serviceId: def.ServiceID,
      serviceName,
      node,
      name: def.Name,
      ...(initialStatus ? { initialStatus } : {}),
      ...(def.DeregisterCriticalServiceAfterMs ? { deregisterCriticalAfter: def.DeregisterCriticalServiceAfterMs } : {}),
      env: process.env,
      cwd: process.cwd(),
    };
    const health = {
      interval: def.IntervalMs ?? 10_000,
      timeout: def.TimeoutMs ?? 10_000,
      startPeriod: 0,
      successThreshold: Math.max(1, def.SuccessBeforePassing ?? 0),
      failureThreshold: Math.max(1, def.FailuresBeforeCritical ?? 0),
      restart: false,
    };
    if (def.kind === 'http') {
      const url = new URL(def.HTTP!);
      const http = {
        ...(def.Method ? { method: def.Method } : {}),
        ...(def.Header ? { headers: def.Header } : {}),
        ...(def.Body ? { body: def.Body } : {}),
        ...(def.TLSSkipVerify ? { tlsSkipVerify: true } : {}),
      };
      return {
        ...base,
        health: { ...health, kind: 'http', path: `${url.pathname}${url.search}` },
        address: url.hostname,
        port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
        url: def.HTTP!,
        http,
      };
    }
    if (def.kind === 'tcp') {
      const i = def.TCP!.lastIndexOf(':');
      const host = def.TCP!.slice(0, i).replace(/^\[(.*)\]$/, '$1') || 'localhost';
      return { ...base, health: { ...health, kind: 'tcp' }, address: host, port: Number(def.TCP!.slice(i + 1)) };
    }
    return { ...base, health: { ...health, kind: 'cmd', command: def.Args! }, address: '', port: undefined };
  }

  function applyService(def: ServiceDef): void {
    services.set(def.ID, def);
    ctx.serviceExtras.set(def.ID, { Kind: '', EnableTagOverride: def.EnableTagOverride, TaggedAddresses: def.TaggedAddresses });
    ctx.store.registerService({
      ID: def.ID,
      Service: def.Name,
      Tags: [...def.Tags],
      Address: def.Address,
      Port: def.Port,
      Meta: { ...def.Meta },
      Node: node,
      Weights: { ...def.Weights },
      Owner: 'api',
    });
  }

  function applyCheck(def: CheckDef): void {
    const previous = checks.get(def.CheckID);
    const current = ctx.store.check(def.CheckID);
    // Re-registering the same check (a registrator resync) keeps its status rather than flapping to critical.
    const keep = !def.Status && previous?.kind === 'check' && current && sameDef(previous.def, def) ? current.Status : undefined;
    checks.set(def.CheckID, { kind: 'check', def });
    ctx.checkViews.set(def.CheckID, viewOfCheck(def));
    const serviceName = def.ServiceID ? (services.get(def.ServiceID)?.Name ?? '') : '';
    const initial = keep ?? def.Status;
    if (def.kind === 'ttl') {
      ctx.checker.addTtl({
        checkId: def.CheckID,
        serviceId: def.ServiceID,
        serviceName,
        node,
        ttl: def.TtlMs!,
        name: def.Name,
        ...(def.Notes ? { notes: def.Notes } : {}),
        ...(initial ? { initialStatus: initial } : {}),
        ...(def.DeregisterCriticalServiceAfterMs ? { deregisterCriticalAfter: def.DeregisterCriticalServiceAfterMs } : {}),
      });
    } else {
      ctx.checker.add(specOf(def, serviceName, initial));
    }
  }

  function applyMaintenance(checkId: string, serviceId: string, reason: string): void {
    checks.set(checkId, { kind: 'maintenance', serviceId, reason });
    ctx.checkViews.set(checkId, { Type: 'maintenance', Notes: reason, Interval: '', Timeout: '', Definition: {} });
    ctx.store.registerCheck({
      Node: node,
      CheckID: checkId,
      Name: serviceId ? 'Service Maintenance Mode' : 'Node Maintenance Mode',
      Status: 'critical',
      Output: '',
      Notes: reason,
      ServiceID: serviceId,
      ServiceName: serviceId ? (services.get(serviceId)?.Name ?? '') : '',
      Type: 'maintenance',
    });
  }

  /** Forgets a check (the map first, so the store subscription knows the deletion is ours). */
  function removeCheck(id: string): void {
    checks.delete(id);
    ctx.checkViews.delete(id);
    ctx.checker.remove(id);
    ctx.store.deregisterCheck(id);
  }

  function checksOfService(id: string): string[] {
    return [...checks.entries()].filter(([, c]) => (c.kind === 'check' ? c.def.ServiceID : c.serviceId) === id).map(([checkId]) => checkId);
  }

  function forget(what: string, key: string): void {
    void ctx.serialize(() => ctx.registrations.delete(key)).catch((err) => log.warn(`could not forget the durable record of ${what}`, err));
  }

  // The health checker deregisters services itself (DeregisterCriticalServiceAfter): forget them and their records.
  const unsubscribe = ctx.store.subscribe((change) => {
    if (change.op !== 'delete') return;
    if (change.kind === 'service' && services.has(change.service.ID)) {
      const id = change.service.ID;
      services.delete(id);
      ctx.serviceExtras.delete(id);
      forget(`service ${id}`, serviceKey(id));
      for (const checkId of checksOfService(id)) {
        checks.delete(checkId);
        ctx.checkViews.delete(checkId);
        ctx.checker.remove(checkId);
        forget(`check ${checkId}`, checkKey(checkId));
      }
    } else if (change.kind === 'check' && checks.has(change.check.CheckID)) {
      const id = change.check.CheckID;
      checks.delete(id);
      ctx.checkViews.delete(id);
      forget(`check ${id}`, checkKey(id));
    }
  });

  function assertOwnable(serviceId: string | undefined, checkIds: string[]): void {
    if (serviceId !== undefined) {
      if (serviceId === 'consul') throw badRequest('Service ID "consul" is reserved for the Consul server itself');
      const existing = ctx.store.service(serviceId);
      if (existing && !services.has(serviceId)) {
        throw badRequest(`Service ID ${JSON.stringify(serviceId)} is already registered on node ${JSON.stringify(existing.Node)} by ${existing.Owner === 'supervisor' ? "machineroom's supervisor" : 'the catalog API'}; choose another ID`);
      }
    }
    for (const id of checkIds) {
      const existing = ctx.store.check(id);
      if (existing && !checks.has(id)) throw badRequest(`Check ID ${JSON.stringify(id)} is already registered on node ${JSON.stringify(existing.Node)}; choose another ID`);
    }
  }

  const registry: AgentRegistry = {
    agentServices: () => [...services.keys()].map((id) => ctx.store.service(id)).filter((s): s is CatalogService => s !== undefined),
    agentService: (id) => (services.has(id) ? ctx.store.service(id) : undefined),
    agentChecks: () => [...checks.keys()].map((id) => ctx.store.check(id)).filter((c): c is HealthCheck => c !== undefined),

    registerService: (service, defs, replace) =>
      ctx.serialize(async () => {
        assertOwnable(service.ID, defs.map((d) => d.CheckID));
        const stale = replace ? checksOfService(service.ID).filter((id) => !defs.some((d) => d.CheckID === id) && checks.get(id)?.kind === 'check') : [];
        await ctx.registrations.put(serviceKey(service.ID), { type: 'agent-service', service } satisfies AgentRecord);
        for (const def of defs) await ctx.registrations.put(checkKey(def.CheckID), { type: 'agent-check', check: def } satisfies AgentRecord);
        for (const id of stale) await ctx.registrations.delete(checkKey(id));
        applyService(service);
        for (const id of stale) removeCheck(id);
        for (const def of defs) applyCheck(def);
      }),

    deregisterService: (id) =>
      ctx.serialize(async () => {
        if (!services.has(id)) throw unknownService(id);
        const owned = checksOfService(id);
        await ctx.registrations.delete(serviceKey(id));
        for (const checkId of owned) await ctx.registrations.delete(checkKey(checkId));
        services.delete(id);
        for (const checkId of owned) removeCheck(checkId);
        ctx.store.deregisterService(id);
        ctx.serviceExtras.delete(id);
      }),

    registerCheck: (def) =>
      ctx.serialize(async () => {
        if (def.ServiceID && !services.has(def.ServiceID)) throw notFound(`ServiceID ${JSON.stringify(def.ServiceID)} does not exist`);
        if (def.CheckID === 'serfHealth' || def.CheckID === NODE_MAINT_CHECK || def.CheckID.startsWith(SERVICE_MAINT_PREFIX)) {
          throw badRequest(`Check ID ${JSON.stringify(def.CheckID)} is reserved by the agent`);
        }
        assertOwnable(undefined, [def.CheckID]);
        await ctx.registrations.put(checkKey(def.CheckID), { type: 'agent-check', check: def } satisfies AgentRecord);
        applyCheck(def);
      }),

    deregisterCheck: (id) =>
      ctx.serialize(async () => {
        if (!checks.has(id)) throw unknownCheck(id);
        await ctx.registrations.delete(checkKey(id));
        removeCheck(id);
      }),

    updateTtl(id, status, output) {
      if (!checks.has(id)) throw unknownCheck(id);
      const clipped = output.length > MAX_OUTPUT ? `${output.slice(0, MAX_OUTPUT)} ... (captured ${MAX_OUTPUT} of ${output.length} bytes)` : output;
      if (!ctx.checker.updateTtl(id, status, clipped)) throw rpcError(`CheckID ${JSON.stringify(id)} does not have associated TTL`);
    },

    setServiceMaintenance: (id, enable, reason) =>
      ctx.serialize(async () => {
        if (!services.has(id)) throw unknownService(id);
        const checkId = `${SERVICE_MAINT_PREFIX}${id}`;
        if (enable) {
          if (checks.has(checkId)) return;
          const notes = reason || SERVICE_MAINT_REASON;
          await ctx.registrations.put(checkKey(checkId), { type: 'agent-maintenance', checkId, serviceId: id, reason: notes } satisfies AgentRecord);
          applyMaintenance(checkId, id, notes);
        } else if (checks.has(checkId)) {
          await ctx.registrations.delete(checkKey(checkId));
          removeCheck(checkId);
        }
      }),

    setNodeMaintenance: (enable, reason) =>
      ctx.serialize(async () => {
        if (enable) {
          if (checks.has(NODE_MAINT_CHECK)) return;
          const notes = reason || NODE_MAINT_REASON;
          await ctx.registrations.put(checkKey(NODE_MAINT_CHECK), { type: 'agent-maintenance', checkId: NODE_MAINT_CHECK, serviceId: '', reason: notes } satisfies AgentRecord);
          applyMaintenance(NODE_MAINT_CHECK, '', notes);
        } else if (checks.has(NODE_MAINT_CHECK)) {
          await ctx.registrations.delete(checkKey(NODE_MAINT_CHECK));
          removeCheck(NODE_MAINT_CHECK);
        }
      }),

    restore(records) {
      const mine = records.filter((r) => typeof r.record === 'object' && r.record !== null && String((r.record as { type?: unknown }).type).startsWith('agent-'));
      const byType = (type: AgentRecord['type']) => mine.filter((r) => (r.record as AgentRecord).type === type);
      for (const { id, record } of byType('agent-service')) {
        try {
          applyService((record as Extract<AgentRecord, { type: 'agent-service' }>).service);
        } catch (err) {
          log.warn(`skipping the unreadable durable record ${id}`, err);
        }
      }
      for (const { id, record } of byType('agent-check')) {
        try {
          const def = (record as Extract<AgentRecord, { type: 'agent-check' }>).check;
          if (def.ServiceID && !services.has(def.ServiceID)) continue;
          applyCheck(def);
        } catch (err) {
          log.warn(`skipping the unreadable durable record ${id}`, err);
        }
      }
      for (const { record } of byType('agent-maintenance')) {
        const m = record as Extract<AgentRecord, { type: 'agent-maintenance' }>;
        if (m.serviceId && !services.has(m.serviceId)) continue;
        applyMaintenance(m.checkId, m.serviceId, m.reason);
      }
    },

    close() {
      unsubscribe();
    },
  };
  return registry;
}
