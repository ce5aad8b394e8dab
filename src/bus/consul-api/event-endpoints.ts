// /v1/event/fire/<name> and /v1/event/list: user events kept in memory (the newest 256, as an agent keeps them), with
// their node/service/tag filters stored; event/list blocks on an internal event index.
import { randomUUID } from 'node:crypto';
import { ConsulHttpError, badRequest } from './consul-error.js';
import { jsonResponse } from './responses.js';
import { readBody } from './request-body.js';
import { answerRead } from './answer-read.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './router.js';

/** How many events an agent remembers. */
const MAX_EVENTS = 256;
/** Serf's user_event_size_limit: name plus payload. */
const EVENT_SIZE_LIMIT = 512;

/** A user event as Consul returns it. */
interface UserEvent {
  ID: string;
  Name: string;
  Payload: string | null;
  NodeFilter: string;
  ServiceFilter: string;
  TagFilter: string;
  Version: number;
  LTime: number;
}

function checkRegexp(what: string, text: string): void {
  try {
    new RegExp(text);
  } catch (err) {
    throw badRequest(`Invalid ${what} filter: ${(err as Error).message}`);
  }
}

/** The event routes (their state lives with the routes: events are not persisted, as in Consul). */
export function eventRoutes(ctx: ApiContext): Route[] {
  const events: UserEvent[] = [];
  let fired = 0;
  return [
    {
      path: '/v1/event/fire/',
      methods: ['PUT'],
      handle: async (call) => {
        const name = call.rest;
        if (!name) throw badRequest('Missing name');
        const p = call.q.params;
        const event: UserEvent = {
          ID: randomUUID(),
          Name: name,
          Payload: null,
          NodeFilter: p.get('node') ?? '',
          ServiceFilter: p.get('service') ?? '',
          TagFilter: p.get('tag') ?? '',
          Version: 1,
          LTime: 0,
        };
        if (event.TagFilter && !event.ServiceFilter) throw badRequest('Cannot provide tag filter without service filter');
        if (event.NodeFilter) checkRegexp('node', event.NodeFilter);
        if (event.ServiceFilter) checkRegexp('service', event.ServiceFilter);
        if (event.TagFilter) checkRegexp('tag', event.TagFilter);
        const limit = Math.max(0, EVENT_SIZE_LIMIT - Buffer.byteLength(name));
        const payload = await readBody(call.req, limit, () => new ConsulHttpError(413, `user event exceeds configured limit of ${EVENT_SIZE_LIMIT} bytes before encoding`));
        if (payload.length > 0) event.Payload = payload.toString('base64');
        fired += 1;
        events.push({ ...event, LTime: fired });
        if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
        ctx.events.bump();
        return jsonResponse(event, { pretty: call.q.pretty });
      },
    },
    {
      path: '/v1/event/list',
      methods: ['GET'],
      handle: async (call) => {
        const name = call.q.params.get('name') ?? '';
        return answerRead(
          ctx,
          call,
          () => {
            const list = name ? events.filter((e) => e.Name === name) : [...events];
            // The index names the newest listed event (1 when none: a non-zero index prevents hot loops).
            return { index: list.length === 0 ? 1 : list[list.length - 1]!.LTime, value: list };
          },
          { source: ctx.events },
        );
      },
    },
  ];
}
