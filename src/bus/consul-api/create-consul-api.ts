// The Consul-compatible HTTP API (/v1/*) over the bus: one Request → Response handler that routes, validates the shared
// query options, and answers every failure as Consul does (text/plain, Consul's status and wording), never throwing.
import type { Handler } from '../../http/index.js';
import { MachineroomError } from '../../errors/index.js';
import { createLogger } from '../../log/index.js';
import { ConsulHttpError, badRequest, notFound } from './consul-error.js';
import { emptyResponse, errorResponse, textResponse } from './responses.js';
import { parseQueryOptions } from './query-options.js';
import { drainBody } from './request-body.js';
import { createRouter } from './router.js';
import { createNotifier } from './blocking-query.js';
import { createSerializer } from './serialize.js';
import { trackTableIndexes } from './table-indexes.js';
import { nodeIdOf, registerAgentNode } from './agent-identity.js';
import { createAgentRegistry } from './agent-registry.js';
import { createCatalogRegistry } from './catalog-registry.js';
import { agentRoutes } from './agent-endpoints.js';
import { catalogRoutes } from './catalog-endpoints.js';
import { healthRoutes } from './health-endpoints.js';
import { kvRoutes } from './kv-endpoints.js';
import { sessionRoutes } from './session-endpoints.js';
import { txnRoutes } from './txn-endpoint.js';
import { eventRoutes } from './event-endpoints.js';
import { statusRoutes } from './status-endpoints.js';
import type { ApiContext, ConsulApiDeps } from './api-context.js';

const log = createLogger('consul-api');

/** The API handler, with restore() (replay durable API registrations at startup) and close() (end blocking queries). */
export type ConsulApi = Handler & { restore(): Promise<void>; close(): void };

// Consul's HTTP server refuses paths with unprintable characters (cleanhttp.PrintablePathCheckHandler).
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f]/;

/** Creates the API over the bus; registers the agent's node, serfHealth check and "consul" service right away. */
export function createConsulApi(deps: ConsulApiDeps): ConsulApi {
  const aborter = new AbortController();
  const nodeId = nodeIdOf(deps.agent.nodeName);
  registerAgentNode(deps.store, deps.agent, nodeId);
  const clock = deps.store.clock;
  const ctx: ApiContext = {
    store: deps.store,
    kv: deps.kv,
    sessions: deps.sessions,
    registrations: deps.registrations,
    checker: deps.checker,
    agent: deps.agent,
    nodeId,
    scriptChecks: deps.enableScriptChecks ?? false,
    limits: { minIntervalMs: 1000, minDeregisterCriticalAfterMs: 60_000, ...deps.checkLimits },
    now: deps.now ?? Date.now,
    indexes: trackTableIndexes(deps.store),
    changes: { mark: () => clock.current(), waitAfter: (mark, ms, signal) => clock.waitForIndex(mark, ms, signal) },
    events: createNotifier(),
    serviceExtras: new Map(),
    nodeTaggedAddresses: new Map(),
    checkViews: new Map(),
    serialize: createSerializer(),
    closed: aborter.signal,
  };
  const agent = createAgentRegistry(ctx);
  const catalog = createCatalogRegistry(ctx);
  const match = createRouter([
    ...agentRoutes(ctx, agent),
    ...catalogRoutes(ctx, catalog),
    ...healthRoutes(ctx),
    ...kvRoutes(ctx),
    ...sessionRoutes(ctx),
    ...txnRoutes(ctx),
    ...eventRoutes(ctx),
    ...statusRoutes(ctx),
  ]);

  async function dispatch(req: Request): Promise<Response> {
    if (aborter.signal.aborted) return textResponse(503, 'The Consul API is shutting down');
    const url = new URL(req.url);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      throw badRequest(`Invalid URL path ${JSON.stringify(url.pathname)}: malformed percent-encoding`);
    }
    if (UNPRINTABLE.test(path)) throw badRequest('Invalid URL path: it contains unprintable characters');
    const hit = match(path);
    if (!hit) throw notFound(`Unknown endpoint ${JSON.stringify(url.pathname)}: this server speaks Consul's HTTP API under /v1/ (agent, catalog, health, kv, session, txn, event, status)`);
    const allow = ['OPTIONS', ...hit.route.methods].join(',');
    if (req.method === 'OPTIONS') return emptyResponse(200, { Allow: allow });
    if (!hit.route.methods.includes(req.method)) throw new ConsulHttpError(405, `method ${req.method} not allowed`, { headers: { Allow: allow } });
    const q = parseQueryOptions(req, url.searchParams, deps.agent);
    return hit.route.handle({ req, url, rest: hit.rest, q });
  }

  const handle = async (req: Request): Promise<Response> => {
    let res: Response;
    try {
      res = await dispatch(req);
    } catch (err) {
      if (!(err instanceof MachineroomError)) log.error(`${req.method} ${req.url} failed`, err);
      res = errorResponse(err);
    }
    // A body the endpoint did not read (an early error) is dropped first, or clients still sending it miss the answer.
    await drainBody(req);
    res.headers.set('X-Consul-Default-ACL-Policy', 'allow');
    return res;
  };

  return Object.assign(handle, {
    async restore() {
      const records = deps.registrations.all();
      catalog.restore(records);
      agent.restore(records);
    },
    close() {
      if (aborter.signal.aborted) return;
      aborter.abort();
      ctx.events.close();
      ctx.indexes.close();
      agent.close();
    },
  });
}
