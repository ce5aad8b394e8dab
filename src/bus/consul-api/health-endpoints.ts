// /v1/health/*: a node's checks, a service's checks, a service's instances with their node and checks (?passing), and
// every check in a state; all blocking, Checks and Tags never null.
import type { HealthCheck } from '../index.js';
import { badRequest } from './consul-error.js';
import { compareStrings, matchesNodeMeta, nodeOf, renderCheck, renderNode, renderNodeService, sortChecks, sortNear } from './render-catalog.js';
import { instancesFor } from './catalog-endpoints.js';
import { filterList } from './filter-evaluate.js';
import { HEALTH_CHECK_SCHEMA, SERVICE_ENTRY_SCHEMA } from './filter-schema.js';
import { boolParam } from './query-options.js';
import { answerRead } from './answer-read.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './router.js';

const STATES = new Set(['any', 'passing', 'warning', 'critical']);

/** The health routes. */
export function healthRoutes(ctx: ApiContext): Route[] {
  const render = (checks: HealthCheck[]) => checks.map((c) => renderCheck(ctx, c));
  return [
    {
      path: '/v1/health/node/',
      methods: ['GET'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing node name');
        return answerRead(ctx, call, () => {
          const checks = ctx.store.checks().filter((c) => c.Node === call.rest).sort((a, b) => compareStrings(a.CheckID, b.CheckID));
          return { index: ctx.indexes.ofNode(call.rest), value: filterList(render(checks), call.q.filter, HEALTH_CHECK_SCHEMA) };
        });
      },
    },
    {
      path: '/v1/health/checks/',
      methods: ['GET'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing service name');
        return answerRead(ctx, call, () => {
          const ids = new Set(ctx.store.instancesOf(call.rest).filter((s) => matchesNodeMeta(ctx.store.node(s.Node), call.q.nodeMeta)).map((s) => s.ID));
          const checks = sortChecks(ctx.store.checks().filter((c) => c.ServiceID !== '' && ids.has(c.ServiceID)));
          return { index: ctx.indexes.ofServiceName(call.rest), value: sortNear(filterList(render(checks), call.q.filter, HEALTH_CHECK_SCHEMA), call.q.near, (c) => c.Node) };
        });
      },
    },
    {
      path: '/v1/health/service/',
      methods: ['GET'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing service name');
        const passing = boolParam(call.q.params, 'passing', 'Invalid value for ?passing');
        return answerRead(ctx, call, () => {
          const all = ctx.store.checks();
          const entries = instancesFor(ctx, call, call.rest)
            .map((svc) => {
              const checks = all.filter((c) => c.Node === svc.Node && (c.ServiceID === '' || c.ServiceID === svc.ID)).sort((a, b) => compareStrings(a.CheckID, b.CheckID));
              return { Node: renderNode(ctx, nodeOf(ctx, svc)), Service: renderNodeService(ctx, svc), Checks: render(checks) };
            })
            .filter((e) => !passing || e.Checks.every((c) => c.Status === 'passing'));
          return { index: ctx.indexes.ofServiceName(call.rest), value: sortNear(filterList(entries, call.q.filter, SERVICE_ENTRY_SCHEMA), call.q.near, (e) => e.Node.Node) };
        });
      },
    },
    {
      path: '/v1/health/state/',
      methods: ['GET'],
      handle: async (call) => {
        const state = call.rest;
        if (!state) throw badRequest('Missing check state');
        if (!STATES.has(state)) throw badRequest(`Invalid check state ${JSON.stringify(state)}: use any, passing, warning or critical`);
        return answerRead(ctx, call, () => {
          const checks = sortChecks(ctx.store.checks().filter((c) => (state === 'any' || c.Status === state) && matchesNodeMeta(ctx.store.node(c.Node), call.q.nodeMeta)));
          return { index: ctx.indexes.checks(), value: sortNear(filterList(render(checks), call.q.filter, HEALTH_CHECK_SCHEMA), call.q.near, (c) => c.Node) };
        });
      },
    },
  ];
}
