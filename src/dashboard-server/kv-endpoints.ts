// /v1/machineroom/kv/<key> for the dashboard: reveal a value, and write or delete it with a mandatory check-and-set, so
// an edit made on a stale page never overwrites someone else's change. A conflict answers 409 with what the key holds
// now. Writes go through the bus's KV store and are acknowledged only once they are durable.
import { MachineroomError } from '../errors/index.js';
import type { KvStore, TxnKvOp } from '../bus/index.js';
import { jsonResponse } from './json-response.js';
import { textOf, toValueView } from './kv-entry-view.js';

/** Consul's kv_max_value_size, which the bus's own KV API enforces too. */
export const KV_VALUE_LIMIT = 512 * 1024;

/** What the KV routes need. */
export interface KvRoutesDeps {
  kv: KvStore;
  secrets: () => readonly string[];
  version: string;
}

function keyOf(rest: string[]): string {
  const key = rest.join('/');
  if (key === '') throw new MachineroomError('ERR_BAD_REQUEST', 'name a key: /v1/machineroom/kv/<key>');
  return key;
}

function casOf(url: URL): number {
  const raw = url.searchParams.get('cas');
  if (raw === null) throw new MachineroomError('ERR_BAD_REQUEST', 'cas: required; the dashboard writes with check-and-set only: ?cas=<the modifyIndex you read> (0 to create a new key)');
  const n = Number(raw);
  if (raw === '' || !Number.isSafeInteger(n) || n < 0) throw new MachineroomError('ERR_BAD_REQUEST', `cas: expected an index (a whole number >= 0), got "${raw}"`);
  return n;
}

/** Reads a request body of at most `limit` bytes. */
async function readBody(req: Request, limit: number): Promise<Buffer> {
  if (!req.body) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new MachineroomError('ERR_BAD_REQUEST', `the value is over ${limit / 1024} KiB, the KV store's limit per value (as Consul's kv_max_value_size)`);
    }
    parts.push(Buffer.from(value));
  }
  return Buffer.concat(parts);
}

/** The 409 of a stale check-and-set: the key's current index and value (null when gone or not text). */
function conflict(kv: KvStore, key: string, version: string): Response {
  const now = kv.get(key);
  const message = now
    ? `${key} was changed by someone else (now at index ${now.ModifyIndex}); reload and retry`
    : `${key} was changed by someone else (it no longer exists, or was created since you read it); reload and retry`;
  const error = { code: 'ERR_CONFLICT', message };
  // `code`/`message` as every control-API error has them; `error` and `current` as the dashboard contract has them.
  return jsonResponse(409, { ...error, error, current: { modifyIndex: now?.ModifyIndex ?? 0, value: now ? textOf(now.Value) : null } }, version);
}

/** Runs one write verb as a transaction: the entry it wrote comes back with its index, or it was refused. */
async function runCas(kv: KvStore, op: TxnKvOp): Promise<{ ok: true; modifyIndex: number } | { ok: false }> {
  const result = await kv.txn([op]);
  if (result.ok) return { ok: true, modifyIndex: result.results[0]?.ModifyIndex ?? 0 };
  const refusedOnly = result.errors.every((e) => /index is stale/.test(e.What));
  if (!refusedOnly) throw new MachineroomError('ERR_BAD_REQUEST', result.errors.map((e) => e.What).join('; '));
  return { ok: false };
}

/** GET, PUT and DELETE kv/<key> as control-API routes (all need the token or the session). */
export function createKvRoutes(deps: KvRoutesDeps) {
  const { kv, version } = deps;
  return {
    async get(rest: string[]): Promise<Response> {
      const key = keyOf(rest);
      const e = kv.get(key);
      if (!e) throw new MachineroomError('ERR_NOT_FOUND', `no key "${key}" in the KV store`);
      return jsonResponse(200, toValueView(e, deps.secrets()), version);
    },
    async put(req: Request, url: URL, rest: string[]): Promise<Response> {
      const key = keyOf(rest);
      const cas = casOf(url);
      const value = await readBody(req, KV_VALUE_LIMIT);
      // The flags stay as they were: a check-and-set that succeeds replaces exactly the version whose flags were read.
      const flags = cas === 0 ? 0 : (kv.get(key)?.Flags ?? 0);
      const done = await runCas(kv, { Verb: 'cas', Key: key, Value: value, Flags: flags, Index: cas });
      return done.ok ? jsonResponse(200, { ok: true, modifyIndex: done.modifyIndex }, version) : conflict(kv, key, version);
    },
    async delete(url: URL, rest: string[]): Promise<Response> {
      const key = keyOf(rest);
      const cas = casOf(url);
      // As in Consul, deleting a key that is already gone succeeds; cas=0 never matches an existing key.
      const done = await runCas(kv, { Verb: 'delete-cas', Key: key, Index: cas });
      return done.ok ? jsonResponse(200, { ok: true }, version) : conflict(kv, key, version);
    },
  };
}
