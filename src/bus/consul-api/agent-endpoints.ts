// /v1/agent/*: the agent's identity (self, members, version), its services and checks (register, deregister, TTL
// updates, maintenance), and the local health summaries.
import { createHash } from 'node:crypto';
import type { CheckStatus, HealthCheck } from '../index.js';
import { badRequest, notFound } from './consul-error.js';
import { FieldReader } from './decode-fields.js';
import { decodeCheck, resolveCheck } from './check-definition.js';
import { decodeServiceRegistration } from './service-definition.js';
import { renderMember, renderSelf } from './agent-identity.js';
import { NODE_MAINT_CHECK, SERVICE_MAINT_PREFIX } from './agent-registry.js';
import type { AgentRegistry } from './agent-registry.js';
import { compareStrings, renderAgentService, renderCheck } from './render-catalog.js';
import { compileFilter } from './filter-evaluate.js';
import type { FieldSchema } from './filter-evaluate.js';
import { AGENT_SERVICE_SCHEMA, HEALTH_CHECK_SCHEMA } from './filter-schema.js';
import { emptyResponse, jsonResponse, textResponse } from './responses.js';
import { readJson } from './request-body.js';
import { answerRead } from './answer-read.js';
import { parseGoBool } from './query-options.js';
import type { ApiContext } from './api-context.js';
import type { ApiCall, Route } from './router.js';

/** Consul's ?enable for maintenance endpoints: required, ParseBool. */
function enableParam(call: ApiCall): boolean {
  if (!call.q.params.has('enable')) throw badRequest('Missing value for enable');
  const raw = call.q.params.get('enable') ?? '';
  const value = parseGoBool(raw);
  if (value === undefined) throw badRequest(`Invalid value for enable: ${JSON.stringify(raw)}`);
  return value;
}

/** Filters a map's values, keeping its keys (agent/services, agent/checks). */
function filterMap<T>(entries: [string, T][], filter: string | undefined, schema: FieldSchema): Record<string, T> {
  const keep = filter ? compileFilter(filter, schema) : () => true;
  const out: Record<string, T> = {};
  for (const [k, v] of entries.sort(([a], [b]) => compareStrings(a, b))) if (keep(v)) out[k] = v;
  return out;
}

/** Consul's HealthChecks.AggregatedStatus: maintenance wins, then critical, warning, passing. */
function aggregatedStatus(checks: HealthCheck[]): string {
  if (checks.some((c) => c.CheckID === NODE_MAINT_CHECK || c.CheckID.startsWith(SERVICE_MAINT_PREFIX))) return 'maintenance';
  if (checks.some((c) => c.Status === 'critical')) return 'critical';
  if (checks.some((c) => c.Status === 'warning')) return 'warning';
  return 'passing';
}

const CODE_OF_STATUS: Record<string, number> = { passing: 200, warning: 429 };

/** The agent's routes. */
export function agentRoutes(ctx: ApiContext, registry: AgentRegistry): Route[] {
  const nodeChecks = () => registry.agentChecks().filter((c) => c.ServiceID === '');
  const healthOf = (serviceId: string) => [...registry.agentChecks().filter((c) => c.ServiceID === serviceId), ...nodeChecks()];
  const wantsText = (call: ApiCall) => (call.req.headers.get('accept') ?? '').startsWith('text/plain') || call.q.params.get('format') === 'text';

  const update = (status: CheckStatus) => async (call: ApiCall) => {
    registry.updateTtl(call.rest, status, call.q.params.get('note') ?? '');
    return emptyResponse();
  };

  return [
    { path: '/v1/agent/self', methods: ['GET'], handle: async (call) => jsonResponse(renderSelf(ctx.agent, ctx.nodeId, ctx.scriptChecks), { pretty: call.q.pretty }) },
    {
      path: '/v1/agent/members',
      methods: ['GET'],
      handle: async (call) => {
        const wan = (call.q.params.get('wan') ?? '') !== '';
        const segment = call.q.params.get('segment') ?? '';
        if (wan && segment !== '' && segment !== '_all') throw badRequest('Cannot provide a segment with wan=true');
        return jsonResponse([renderMember(ctx.agent, ctx.nodeId, wan)], { pretty: call.q.pretty });
      },
    },
    {
      path: '/v1/agent/version',
      methods: ['GET'],
      handle: async (call) => jsonResponse({ SHA: '', BuildDate: '1970-01-01T00:00:01Z', HumanVersion: ctx.agent.version, FIPS: '' }, { pretty: call.q.pretty }),
    },
    { path: '/v1/agent/reload', methods: ['PUT'], handle: async () => emptyResponse() },
    {
      path: '/v1/agent/services',
      methods: ['GET'],
      handle: async (call) => {
        const services = registry.agentServices().map((s) => [s.ID, renderAgentService(ctx, s)] as [string, ReturnType<typeof renderAgentService>]);
        return jsonResponse(filterMap(services, call.q.filter, AGENT_SERVICE_SCHEMA), { pretty: call.q.pretty });
      },
    },
    {
      path: '/v1/agent/service/',
      methods: ['GET'],
      handle: async (call) => {
        // Hash-based blocking: ?hash is the ContentHash the caller has; block until the service renders differently.
        const given = call.q.params.get('hash') ?? '';
        const render = () => {
          const svc = registry.agentService(call.rest);
          if (!svc) return undefined;
          const body = renderAgentService(ctx, svc);
          const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
          return { ...body, ContentHash: hash };
        };
        return answerRead(
          ctx,
          { ...call, q: { ...call.q, minIndex: given ? 1 : 0 } },
          () => {
            const body = render();
            return { index: body && body.ContentHash === given ? 1 : 2, value: body };
          },
          {
            render: ({ value }) => {
              if (!value) throw notFound(`unknown service ID: ${call.rest}`);
              return jsonResponse(value, { pretty: call.q.pretty, headers: { 'X-Consul-ContentHash': value.ContentHash } });
            },
          },
        );
      },
    },
    {
      path: '/v1/agent/service/register',
      methods: ['PUT'],
      handle: async (call) => {
        const body = await readJson(call.req);
        const { service, checks } = decodeServiceRegistration(body, { scriptChecks: ctx.scriptChecks, limits: ctx.limits });
        const p = call.q.params;
        const replace = p.has('replace-existing-checks') && (p.get('replace-existing-checks') === '' || p.get('replace-existing-checks') === 'true');
        await registry.registerService(service, checks, replace);
        return emptyResponse();
      },
    },
    {
      path: '/v1/agent/service/deregister/',
      methods: ['PUT'],
      handle: async (call) => {
        await registry.deregisterService(call.rest);
        return emptyResponse();
      },
    },
    {
      path: '/v1/agent/service/maintenance/',
      methods: ['PUT'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing service ID');
        const enable = enableParam(call);
        await registry.setServiceMaintenance(call.rest, enable, call.q.params.get('reason') ?? '');
        return emptyResponse();
      },
    },
    {
      path: '/v1/agent/maintenance',
      methods: ['PUT'],
      handle: async (call) => {
        const enable = enableParam(call);
        await registry.setNodeMaintenance(enable, call.q.params.get('reason') ?? '');
        return emptyResponse();
      },
    },
    {
      path: '/v1/agent/checks',
      methods: ['GET'],
      handle: async (call) => {
        const checks = registry.agentChecks().map((c) => [c.CheckID, renderCheck(ctx, c)] as [string, ReturnType<typeof renderCheck>]);
        return jsonResponse(filterMap(checks, call.q.filter, HEALTH_CHECK_SCHEMA), { pretty: call.q.pretty });
      },
    },
    {
      path: '/v1/agent/check/register',
      methods: ['PUT'],
      handle: async (call) => {
        const body = await readJson(call.req);
        const raw = decodeCheck(FieldReader.of(body, ''));
        if (!raw.Name) throw badRequest('Missing check name');
        const def = resolveCheck(raw, {
          scriptChecks: ctx.scriptChecks,
          limits: ctx.limits,
          defaultId: undefined,
          defaultName: undefined,
          serviceId: raw.ServiceID ?? '',
          statusMessage: 'Bad check status',
        });
        await registry.registerCheck(def);
        return emptyResponse();
      },
    },
    {
      path: '/v1/agent/check/deregister/',
      methods: ['PUT'],
      handle: async (call) => {
        await registry.deregisterCheck(call.rest);
        return emptyResponse();
      },
    },
    { path: '/v1/agent/check/pass/', methods: ['PUT'], handle: update('passing') },
    { path: '/v1/agent/check/warn/', methods: ['PUT'], handle: update('warning') },
    { path: '/v1/agent/check/fail/', methods: ['PUT'], handle: update('critical') },
    {
      path: '/v1/agent/check/update/',
      methods: ['PUT'],
      handle: async (call) => {
        const r = FieldReader.of(await readJson(call.req), '');
        const status = r.string('Status') ?? '';
        const output = r.string('Output') ?? '';
        if (status !== 'passing' && status !== 'warning' && status !== 'critical') throw badRequest(`Invalid check status: '${status}'`);
        registry.updateTtl(call.rest, status, output);
        return emptyResponse();
      },
    },
    {
      path: '/v1/agent/health/service/id/',
      methods: ['GET'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing serviceID');
        const svc = registry.agentService(call.rest);
        if (!svc) {
          const reason = `ServiceId ${call.rest} not found`;
          if (wantsText(call)) return textResponse(404, reason, { 'X-Consul-Reason': reason });
          return jsonResponse({ AggregatedStatus: 'critical', Service: null, Checks: null }, { pretty: call.q.pretty, status: 404, headers: { 'X-Consul-Reason': reason } });
        }
        const checks = healthOf(svc.ID);
        const status = aggregatedStatus(checks);
        const code = CODE_OF_STATUS[status] ?? 503;
        if (wantsText(call)) return textResponse(code, status, { 'X-Consul-Reason': status });
        return jsonResponse(
          { AggregatedStatus: status, Service: renderAgentService(ctx, svc), Checks: checks.map((c) => renderCheck(ctx, c)) },
          { pretty: call.q.pretty, status: code, headers: { 'X-Consul-Reason': status } },
        );
      },
    },
    {
      path: '/v1/agent/health/service/name/',
      methods: ['GET'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing service Name');
        let code = 404;
        let status = `ServiceName ${call.rest} Not Found`;
        const result = [];
        for (const svc of registry.agentServices().filter((s) => s.Service === call.rest)) {
          const checks = healthOf(svc.ID);
          const s = aggregatedStatus(checks);
          const c = CODE_OF_STATUS[s] ?? 503;
          result.push({ AggregatedStatus: s, Service: renderAgentService(ctx, svc), Checks: checks.map((ch) => renderCheck(ctx, ch)) });
          if (code === 404 || code < c) {
            code = c;
            status = s;
          }
        }
        if (wantsText(call)) return textResponse(code, status, { 'X-Consul-Reason': status });
        return jsonResponse(result, { pretty: call.q.pretty, status: code, headers: { 'X-Consul-Reason': status } });
      },
    },
  ];
}
