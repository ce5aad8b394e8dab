// /v1/session/*: create (defaults as Consul's HTTP handler sets them), destroy, renew, and the blocking reads info,
// node and list.
import type { SessionInput } from '../index.js';
import { badRequest, notFound } from './consul-error.js';
import { FieldReader, typeError } from './decode-fields.js';
import { jsonResponse } from './responses.js';
import { hasBody, readJson } from './request-body.js';
import { answerRead } from './answer-read.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './router.js';

/** Decodes a session/create body into the store's input (the store applies Consul's defaults and validation). */
export function decodeSessionCreate(body: unknown): SessionInput {
  const r = FieldReader.of(body, '');
  const input: SessionInput = {};
  const name = r.string('Name');
  if (name !== undefined) input.Name = name;
  const node = r.string('Node');
  if (node) input.Node = node;
  const lockDelay = r.raw('LockDelay');
  if (lockDelay !== undefined) {
    if (typeof lockDelay !== 'string' && typeof lockDelay !== 'number') throw typeError('Request decode failed', 'LockDelay', 'time.Duration', lockDelay);
    input.LockDelay = lockDelay;
  }
  const behavior = r.string('Behavior');
  if (behavior) input.Behavior = behavior as SessionInput['Behavior'];
  const ttl = r.string('TTL');
  if (ttl) input.TTL = ttl;
  // No Checks/NodeChecks key: the store links serfHealth; an explicit list (even empty) replaces it, as in Consul.
  const checks = r.strings('Checks');
  const nodeChecks = r.strings('NodeChecks');
  if (checks !== undefined || nodeChecks !== undefined) input.NodeChecks = [...new Set([...(checks ?? []), ...(nodeChecks ?? [])])];
  const serviceChecks = r.objects('ServiceChecks');
  if (serviceChecks) input.ServiceChecks = serviceChecks.map((s) => ({ ID: s.string('ID') ?? '' }));
  return input;
}

/** The session routes. */
export function sessionRoutes(ctx: ApiContext): Route[] {
  const index = () => ctx.sessions.index();
  return [
    {
      path: '/v1/session/create',
      methods: ['PUT'],
      handle: async (call) => {
        const body = hasBody(call.req) ? await readJson(call.req) : {};
        const session = await ctx.sessions.create(decodeSessionCreate(body));
        return jsonResponse({ ID: session.ID }, { pretty: call.q.pretty });
      },
    },
    {
      path: '/v1/session/destroy/',
      methods: ['PUT'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing session');
        await ctx.sessions.destroy(call.rest);
        return jsonResponse(true, { pretty: call.q.pretty });
      },
    },
    {
      path: '/v1/session/renew/',
      methods: ['PUT'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing session');
        const session = await ctx.sessions.renew(call.rest);
        if (!session) throw notFound(`Session id '${call.rest}' not found`);
        return jsonResponse([session], { pretty: call.q.pretty });
      },
    },
    {
      path: '/v1/session/info/',
      methods: ['GET'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing session');
        return answerRead(ctx, call, () => {
          const s = ctx.sessions.info(call.rest);
          return { index: index(), value: s ? [s] : [] };
        });
      },
    },
    {
      path: '/v1/session/node/',
      methods: ['GET'],
      handle: async (call) => {
        if (!call.rest) throw badRequest('Missing node name');
        return answerRead(ctx, call, () => ({ index: index(), value: ctx.sessions.node(call.rest) }));
      },
    },
    { path: '/v1/session/list', methods: ['GET'], handle: async (call) => answerRead(ctx, call, () => ({ index: index(), value: ctx.sessions.list() })) },
  ];
}
