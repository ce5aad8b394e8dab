// /v1/txn: up to 128 KV operations applied atomically (Value base64 in and out); 200 with Results, or 409 with the
// Errors that rolled it back. Catalog operations (Node, Service, Check) are refused, naming them.
import type { TxnKvOp } from '../index.js';
import { ConsulHttpError, badRequest } from './consul-error.js';
import { FieldReader, isObject } from './decode-fields.js';
import { jsonResponse } from './responses.js';
import { readBody } from './request-body.js';
import { renderKvEntry, KV_MAX_VALUE_SIZE } from './kv-endpoints.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './router.js';

/** The most operations one transaction may hold (Consul 1.x). */
export const MAX_TXN_OPS = 128;

const VERBS = new Set<TxnKvOp['Verb']>(['set', 'cas', 'lock', 'unlock', 'get', 'get-or-empty', 'get-tree', 'check-index', 'check-session', 'check-not-exists', 'delete', 'delete-tree', 'delete-cas']);
const READ_VERBS = new Set<string>(['get', 'get-or-empty', 'get-tree', 'check-index', 'check-session', 'check-not-exists']);
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's base64.StdEncoding.DecodeString: padding required; the error names the first bad byte. */
function decodeBase64(text: string): Buffer {
  if (!STRICT_BASE64.test(text)) {
    const bad = [...text].findIndex((c) => !/[A-Za-z0-9+/=]/.test(c));
    throw badRequest(`Failed to parse body: failed to decode value: illegal base64 data at input byte ${bad >= 0 ? bad : text.length}`);
  }
  return Buffer.from(text, 'base64');
}

/** Decodes the body into KV operations, or throws with Consul's status and wording. */
export function decodeTxn(body: unknown): { ops: TxnKvOp[]; unknownVerbs: { OpIndex: number; What: string }[] } {
  const fail = (why: string) => badRequest(`Failed to parse body: ${why}`);
  if (!Array.isArray(body)) throw fail('1 error(s) decoding:\n\n* \'\' expected a slice of operations');
  if (body.length > MAX_TXN_OPS) throw new ConsulHttpError(413, `Transaction contains too many operations (${body.length} > ${MAX_TXN_OPS})`);
  const others: string[] = [];
  const ops: TxnKvOp[] = [];
  const unknownVerbs: { OpIndex: number; What: string }[] = [];
  body.forEach((item, i) => {
    if (!isObject(item)) throw fail(`operation ${i} is not an object`);
    const r = new FieldReader(item, `[${i}]`, 'Failed to parse body');
    const kinds = Object.keys(item).filter((k) => item[k] !== null);
    const kv = r.object('KV');
    const foreign = kinds.filter((k) => k.toLowerCase() !== 'kv');
    if (foreign.length > 0) others.push(`operation ${i} (${foreign.map((k) => JSON.stringify(k)).join(', ')})`);
    if (!kv) {
      if (foreign.length === 0) throw fail(`operation ${i} has no KV member`);
      return;
    }
    const verb = kv.string('Verb') ?? '';
    const rawValue = kv.raw('Value');
    if (rawValue !== undefined && typeof rawValue !== 'string') throw fail(`unexpected value type: ${typeof rawValue}`);
    const value = rawValue === undefined ? undefined : decodeBase64(rawValue);
    const key = kv.string('Key') ?? '';
    if (value && value.length > KV_MAX_VALUE_SIZE) throw new ConsulHttpError(413, `Value for key ${JSON.stringify(key)} is too large (${value.length} > ${KV_MAX_VALUE_SIZE} bytes)`);
    if (!VERBS.has(verb as TxnKvOp['Verb'])) unknownVerbs.push({ OpIndex: i, What: `unknown KV verb ${JSON.stringify(verb)}` });
    const op: TxnKvOp = { Verb: verb as TxnKvOp['Verb'], Key: key };
    if (value) op.Value = value;
    const flags = kv.int('Flags');
    if (flags !== undefined) op.Flags = flags;
    const index = kv.int('Index');
    if (index !== undefined) op.Index = index;
    const session = kv.string('Session');
    if (session) op.Session = session;
    ops.push(op);
  });
  if (others.length > 0) {
    throw badRequest(`Transaction operations other than KV are not supported by machineroom: ${others.join(', ')}; use the catalog or agent endpoints`);
  }
  return { ops, unknownVerbs };
}

/** The txn route. */
export function txnRoutes(ctx: ApiContext): Route[] {
  return [
    {
      path: '/v1/txn',
      methods: ['PUT'],
      handle: async (call) => {
        const raw = await readBody(call.req, KV_MAX_VALUE_SIZE, () => new ConsulHttpError(413, `Request body too large, max size: ${KV_MAX_VALUE_SIZE} bytes`));
        let body: unknown;
        try {
          body = JSON.parse(raw.toString('utf8') || 'null') as unknown;
        } catch (err) {
          throw badRequest(`Failed to parse body: ${(err as Error).message}`);
        }
        const { ops, unknownVerbs } = decodeTxn(body);
        if (unknownVerbs.length > 0) return jsonResponse({ Results: null, Errors: unknownVerbs }, { pretty: call.q.pretty, status: 409 });
        const readOnly = ops.every((op) => READ_VERBS.has(op.Verb));
        const headers: Record<string, string> = readOnly ? { 'X-Consul-KnownLeader': 'true', 'X-Consul-LastContact': '0' } : {};
        const outcome = await ctx.kv.txn(ops);
        if (!outcome.ok) return jsonResponse({ Results: null, Errors: outcome.errors }, { pretty: call.q.pretty, status: 409, headers });
        // Only get, get-or-empty and get-tree return values; every other verb's result has "Value": null.
        const shows = (key: string) => ops.some((op) => ((op.Verb === 'get' || op.Verb === 'get-or-empty') && op.Key === key) || (op.Verb === 'get-tree' && key.startsWith(op.Key)));
        const results = outcome.results.map((e) => ({ KV: renderKvEntry(e, shows(e.Key)) }));
        return jsonResponse({ Results: results.length > 0 ? results : null, Errors: null }, { pretty: call.q.pretty, headers });
      },
    },
  ];
}
