// /v1/catalog/*: register and deregister, and the blocking reads of datacenters, nodes, services, one service's
// instances and one node's services.
import type { CatalogService } from '../index.js';
import { badRequest } from './consul-error.js';
import type { CatalogRegistry } from './catalog-registry.js';
import { compareStrings, matchesNodeMeta, renderCatalogService, renderNode, renderNodeService, sortNear } from './render-catalog.js';
import { compileFilter, filterList } from './filter-evaluate.js';
import { CATALOG_SERVICE_SCHEMA, NODE_SCHEMA, NODE_SERVICE_SCHEMA } from './filter-schema.js';
import { jsonResponse } from './responses.js';
import { readJson } from './request-body.js';
import { answerRead } from './answer-read.js';
import type { ApiContext } from './api-context.js';
import type { ApiCall, Route } from './router.js';

/** Whether an instance carries every ?tag (Consul compares tags case-insensitively). */
export function hasTags(svc: CatalogService, tags: string[]): boolean {
  return tags.every((t) => svc.Tags.some((st) => st.toLowerCase() === t.toLowerCase()));
}

/** Instances of a service in Consul's order (by node, then ID), narrowed by ?tag and ?node-meta. */
export function instancesFor(ctx: ApiContext, call: ApiCall, name: string): CatalogService[] {
  const tags = call.q.params.getAll('tag');
  return ctx.store
    .instancesOf(name)
    .filter((s) => hasTags(s, tags) && matchesNodeMeta(ctx.store.node(s.Node), call.q.nodeMeta))
    .sort((a, b) => compareStrings(a.Node, b.Node) || compareStrings(a.ID, b.ID));
}

/** The catalog's routes. */
export function catalogRoutes(ctx: ApiContext, catalog: CatalogRegistry): Route[] {
  const servicesOfNode = (node: string) =>
    ctx.store
      .services()
      .filter((x) => x.Node === node)
      .sort((a, b) => compareStrings(a.ID, b.ID));
  return [
    {
      path: '/v1/catalog/register',
      methods: ['PUT'],
      handle: async (call) => {
        await catalog.register(await readJson(call.req));
        return jsonResponse(true, { pretty: call.q.pretty });
      },
    },
    {
      path: '/v1/catalog/deregister',
      methods: ['PUT'],
      handle: async (call) => {
        await catalog.deregister(await readJson(call.req));
        return jsonResponse(true, { pretty: call.q.pretty });
      },
    },
    { path: '/v1/catalog/datacenters', methods: ['GET'], handle: async (call) => jsonResponse([ctx.agent.datacenter], { pretty: call.q.pretty }) },
    {
      path: '/v1/catalog/nodes',
      methods: ['GET'],
      handle: async (call) =>
        answerRead(ctx, call, () => {
          const nodes = ctx.store
            .nodes()
            .filter((n) => matchesNodeMeta(n, call.q.nodeMeta))
            .sort((a, b) => compareStrings(a.Node, b.Node))
            .map((n) => renderNode(ctx, n));
          return { index: ctx.indexes.nodes(), value: sortNear(filterList(nodes, call.q.filter, NODE_SCHEMA), call.q.near, (n) => n.Node) };
        }),
    },
    {
      path: '/v1/catalog/services',
      methods: ['GET'],
      handle: async (call) =>
        answerRead(ctx, call, () => {
          const keep = call.q.filter ? compileFilter(call.q.filter, CATALOG_SERVICE_SCHEMA) : undefined;
          const tags = new Map<string, Set<string>>();
          for (const s of ctx.store.services().sort((a, b) => compareStrings(a.Service, b.Service))) {
            if (!matchesNodeMeta(ctx.store.node(s.Node), call.q.nodeMeta)) continue;
            if (keep && !keep(renderCatalogService(ctx, s))) continue;
            const set = tags.get(s.Service) ?? new Set<string>();
            for (const t of s.Tags) set.add(t);
            tags.set(s.Service, set);
          }
          const value: Record<string, string[]> = {};
          for (const [name, set] of tags) value[name] = [...set].sort(compareStrings);
          return { index: ctx.indexes.services(), value };
        }),
    },
    {
      path: '/v1/catalog/service/',
      methods: ['GET'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing service name');
        return answerRead(ctx, call, () => {
          const rendered = instancesFor(ctx, call, call.rest).map((s) => renderCatalogService(ctx, s));
          return { index: ctx.indexes.ofServiceName(call.rest), value: sortNear(filterList(rendered, call.q.filter, CATALOG_SERVICE_SCHEMA), call.q.near, (s) => s.Node) };
        });
      },
    },
    {
      path: '/v1/catalog/node/',
      methods: ['GET'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing node name');
        return answerRead(ctx, call, () => {
          const node = ctx.store.node(call.rest);
          if (!node) return { index: ctx.indexes.ofNode(call.rest), value: null };
          const keep = call.q.filter ? compileFilter(call.q.filter, NODE_SERVICE_SCHEMA) : () => true;
          const services: Record<string, ReturnType<typeof renderNodeService>> = {};
          for (const s of servicesOfNode(node.Node)) {
            const r = renderNodeService(ctx, s);
            if (keep(r)) services[s.ID] = r;
          }
          return { index: ctx.indexes.ofNode(call.rest), value: { Node: renderNode(ctx, node), Services: services } };
        });
      },
    },
    {
      path: '/v1/catalog/node-services/',
      methods: ['GET'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing node name');
        return answerRead(ctx, call, () => {
          const node = ctx.store.node(call.rest);
          if (!node) return { index: ctx.indexes.ofNode(call.rest), value: null };
          const services = servicesOfNode(node.Node).map((s) => renderNodeService(ctx, s));
          return { index: ctx.indexes.ofNode(call.rest), value: { Node: renderNode(ctx, node), Services: filterList(services, call.q.filter, NODE_SERVICE_SCHEMA) } };
        });
      },
    },
  ];
}
