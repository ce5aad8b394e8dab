// Answers a read endpoint: runs it as a blocking query and writes JSON with Consul's query-meta headers.
import { runBlockingQuery } from './blocking-query.js';
import type { ChangeSource, Indexed } from './blocking-query.js';
import { jsonResponse } from './responses.js';
import type { ApiContext } from './api-context.js';
import type { ApiCall } from './router.js';

const NEVER = new AbortController().signal;

/**
 * The signal a blocking query ends on: the client went away, or the API closed. A read that does not block
 * (no ?index) needs none, and AbortSignal.any() is costly per request in Node 20, so it gets a signal that never fires.
 */
export function callSignal(ctx: ApiContext, call: ApiCall): AbortSignal {
  if (!call.q.minIndex) return NEVER;
  return AbortSignal.any([call.req.signal, ctx.closed]);
}

/** Runs `run` (blocking on ?index/?wait) and answers with its value, or with `render` when given. */
export async function answerRead<T>(
  ctx: ApiContext,
  call: ApiCall,
  run: () => Indexed<T>,
  opts: { source?: ChangeSource; render?: (result: Indexed<T>) => Response } = {},
): Promise<Response> {
  const result = await runBlockingQuery({
    minIndex: call.q.minIndex,
    waitMs: call.q.waitMs,
    signal: callSignal(ctx, call),
    source: opts.source ?? ctx.changes,
    now: ctx.now,
    run,
  });
  if (opts.render) return opts.render(result);
  return jsonResponse(result.value, { pretty: call.q.pretty, meta: { index: result.index, consistency: call.q.consistency }, headers: call.q.cached ? { 'X-Cache': 'MISS' } : {} });
}
