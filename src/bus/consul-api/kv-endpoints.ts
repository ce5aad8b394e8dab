// /v1/kv/<key>: GET (single, ?recurse, ?keys with ?separator, ?raw), PUT (raw body; ?flags, ?cas, ?acquire, ?release),
// DELETE (?recurse, ?cas), with Consul's indexes, 404s (index headers included), limits and wording.
import type { KvEntry, KvSetOptions } from '../index.js';
import { ConsulHttpError, badRequest } from './consul-error.js';
import { jsonResponse, metaHeaders } from './responses.js';
import { readBody } from './request-body.js';
import { answerRead } from './answer-read.js';
import { uintParam } from './query-options.js';
import type { ApiContext } from './api-context.js';
import type { ApiCall, Route } from './router.js';

/** Consul's kv_max_value_size default. */
export const KV_MAX_VALUE_SIZE = 512 * 1024;

/** A KV entry as the HTTP API shows it: Value base64, or null when empty; Session only while a lock is held. */
export function renderKvEntry(e: KvEntry, withValue = true) {
  return {
    LockIndex: e.LockIndex,
    Key: e.Key,
    Flags: e.Flags,
    Value: withValue && e.Value.length > 0 ? e.Value.toString('base64') : null,
    ...(e.Session ? { Session: e.Session } : {}),
    CreateIndex: e.CreateIndex,
    ModifyIndex: e.ModifyIndex,
  };
}

/** Go's url.Values.Encode: keys sorted, form-encoded. */
function encodeParams(params: URLSearchParams): string {
  const sorted = [...params.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(sorted).toString();
}

function rejectConflicts(params: URLSearchParams, ...flags: string[]): void {
  if (flags.filter((f) => params.has(f)).length > 1) throw badRequest(`Conflicting flags: ${encodeParams(params)}`);
}

const uintMessage = (name: string) => (raw: string) => `Invalid ?${name}: strconv.ParseUint: parsing ${JSON.stringify(raw)}: invalid syntax`;

function notFoundWithIndex(index: number, consistency: string): Response {
  return new Response(null, { status: 404, headers: metaHeaders({ index, consistency }) });
}

async function get(ctx: ApiContext, call: ApiCall): Promise<Response> {
  const { params } = call.q;
  const key = call.rest;
  const meta = (index: number) => ({ index, consistency: call.q.consistency });
  if (params.has('keys')) {
    const sep = params.has('separator') ? (params.get('separator') ?? '') : params.has('seperator') ? (params.get('seperator') ?? '') : '';
    return answerRead(ctx, call, () => ({ index: ctx.kv.indexOfPrefix(key), value: ctx.kv.keys(key, sep || undefined) }), {
      render: ({ index, value }) => (value.length === 0 && key !== '' ? notFoundWithIndex(index, call.q.consistency) : jsonResponse(value, { pretty: call.q.pretty, meta: meta(index) })),
    });
  }
  if (params.has('recurse')) {
    return answerRead(ctx, call, () => ({ index: ctx.kv.indexOfPrefix(key), value: ctx.kv.list(key) }), {
      render: ({ index, value }) => (value.length === 0 ? notFoundWithIndex(index, call.q.consistency) : jsonResponse(value.map((e) => renderKvEntry(e)), { pretty: call.q.pretty, meta: meta(index) })),
    });
  }
  if (key === '') throw badRequest('Missing key name');
  return answerRead(ctx, call, () => ({ index: ctx.kv.indexOfKey(key), value: ctx.kv.get(key) }), {
    render: ({ index, value }) => {
      if (!value) return notFoundWithIndex(index, call.q.consistency);
      if (params.has('raw')) {
        return new Response(new Uint8Array(value.Value), {
          status: 200,
          headers: { ...metaHeaders(meta(index)), 'Content-Type': 'text/plain', 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': 'sandbox' },
        });
      }
      return jsonResponse([renderKvEntry(value)], { pretty: call.q.pretty, meta: meta(index) });
    },
  });
}

async function put(ctx: ApiContext, call: ApiCall): Promise<Response> {
  const { params } = call.q;
  const key = call.rest;
  if (key === '') throw badRequest('Missing key name');
  rejectConflicts(params, 'cas', 'acquire', 'release');
  const opts: KvSetOptions = {};
  const flags = uintParam(params, 'flags', uintMessage('flags'));
  if (flags !== undefined) opts.flags = flags;
  const cas = uintParam(params, 'cas', uintMessage('cas'));
  if (cas !== undefined) opts.cas = cas;
  if (params.has('acquire')) opts.acquire = params.get('acquire') ?? '';
  if (params.has('release')) opts.release = params.get('release') ?? '';
  const value = await readBody(
    call.req,
    KV_MAX_VALUE_SIZE,
    (size) =>
      new ConsulHttpError(
        413,
        `Request body(${size} bytes) too large, max size: ${KV_MAX_VALUE_SIZE} bytes. See https://developer.hashicorp.com/consul/docs/agent/config/config-files#kv_max_value_size.`,
      ),
  );
  const ok = await ctx.kv.set(key, value, opts);
  const plain = opts.cas === undefined && opts.acquire === undefined && opts.release === undefined;
  return jsonResponse(plain ? true : ok, { pretty: call.q.pretty });
}

async function del(ctx: ApiContext, call: ApiCall): Promise<Response> {
  const { params } = call.q;
  const key = call.rest;
  rejectConflicts(params, 'recurse', 'cas');
  const recurse = params.has('recurse');
  if (!recurse && key === '') throw badRequest('Missing key name');
  const cas = uintParam(params, 'cas', uintMessage('cas'));
  const ok = await ctx.kv.delete(key, { ...(recurse ? { recurse } : {}), ...(cas !== undefined ? { cas } : {}) });
  return jsonResponse(cas !== undefined ? ok : true, { pretty: call.q.pretty });
}

/** The KV routes. */
export function kvRoutes(ctx: ApiContext): Route[] {
  const handle = async (call: ApiCall): Promise<Response> => {
    switch (call.req.method) {
      case 'GET':
        return get(ctx, call);
      case 'PUT':
        return put(ctx, call);
      default:
        return del(ctx, call);
    }
  };
  return [
    { path: '/v1/kv/', methods: ['GET', 'PUT', 'DELETE'], handle },
    { path: '/v1/kv', methods: ['GET', 'PUT', 'DELETE'], handle },
  ];
}
