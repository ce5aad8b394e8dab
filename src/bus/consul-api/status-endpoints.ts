// /v1/status/leader and /v1/status/peers: the agent is the one Raft server, at its address on port 8300.
import { SERVER_PORT } from './agent-identity.js';
import { jsonResponse } from './responses.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './router.js';

/** The status routes. */
export function statusRoutes(ctx: ApiContext): Route[] {
  const server = () => (ctx.agent.address.includes(':') ? `[${ctx.agent.address}]:${SERVER_PORT}` : `${ctx.agent.address}:${SERVER_PORT}`);
  return [
    { path: '/v1/status/leader', methods: ['GET'], handle: async (call) => jsonResponse(server(), { pretty: call.q.pretty }) },
    { path: '/v1/status/peers', methods: ['GET'], handle: async (call) => jsonResponse([server()], { pretty: call.q.pretty }) },
  ];
}
