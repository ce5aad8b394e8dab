// A small client of the bus's Consul-compatible HTTP API, for the CLI (kv, services, watch) and tests.
import { MachineroomError } from '../errors/index.js';
import { httpRequest } from './http-request.js';
import type { HttpAnswer } from './http-request.js';

/** A KV entry as the HTTP API returns it (Value base64 or null). */
export interface KvWireEntry {
  Key: string;
  Value: string | null;
  Flags: number;
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Session?: string;
}

/** A blocking read's answer: the body and X-Consul-Index. */
export interface Indexed<T> {
  value: T;
  index: number;
}

/** The subset of the Consul HTTP API the CLI uses. */
export interface BusHttpClient {
  kvGet(key: string, opts?: { recurse?: boolean; index?: number; wait?: string; signal?: AbortSignal }): Promise<Indexed<KvWireEntry[] | undefined>>;
  kvKeys(prefix: string, separator?: string): Promise<string[]>;
  kvPut(key: string, value: Buffer, opts?: { flags?: number; cas?: number }): Promise<boolean>;
  kvDelete(key: string, opts?: { recurse?: boolean; cas?: number }): Promise<boolean>;
  catalogServices(): Promise<Record<string, string[]>>;
  healthService(name: string): Promise<{ Node: { Node: string; Address: string }; Service: { ID: string; Service: string; Address: string; Port: number; Tags: string[] }; Checks: { CheckID: string; Status: string; Output: string }[] }[]>;
}

/** Creates a client for the API at `baseUrl` (http://127.0.0.1:8500). */
export function createBusHttpClient(baseUrl: string): BusHttpClient {
  async function call(method: string, path: string, body?: Buffer, signal?: AbortSignal): Promise<HttpAnswer> {
    try {
      return await httpRequest(`${baseUrl}/v1/${path}`, { method, ...(body ? { body } : {}), ...(signal ? { signal } : {}) });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new MachineroomError('ERR_DAEMON_NOT_RUNNING', `cannot reach the bus at ${baseUrl}: ${(err as Error).message}`, { cause: err });
    }
  }
  async function failure(res: HttpAnswer, what: string): Promise<MachineroomError> {
    const text = (await res.text()).trim();
    return new MachineroomError(res.status === 404 ? 'ERR_NOT_FOUND' : res.status >= 500 ? 'ERR_INTERNAL' : 'ERR_BAD_REQUEST', `${what}: ${res.status} ${text}`);
  }
  const enc = (key: string) => key.split('/').map(encodeURIComponent).join('/');
  return {
    async kvGet(key, opts = {}) {
      const q = new URLSearchParams();
      if (opts.recurse) q.set('recurse', 'true');
      if (opts.index !== undefined) q.set('index', String(opts.index));
      if (opts.wait) q.set('wait', opts.wait);
      const res = await call('GET', `kv/${enc(key)}${q.size ? `?${q}` : ''}`, undefined, opts.signal);
      const index = Number(res.header('x-consul-index') ?? 0);
      if (res.status === 404) {
        res.discard();
        return { value: undefined, index };
      }
      if (!res.ok) throw await failure(res, `GET kv/${key}`);
      return { value: (await res.json()) as KvWireEntry[], index };
    },
    async kvKeys(prefix, separator) {
      const q = new URLSearchParams({ keys: 'true', ...(separator ? { separator } : {}) });
      const res = await call('GET', `kv/${enc(prefix)}?${q}`);
      if (res.status === 404) {
        res.discard();
        return [];
      }
      if (!res.ok) throw await failure(res, `GET kv/${prefix}?keys`);
      return (await res.json()) as string[];
    },
    async kvPut(key, value, opts = {}) {
      const q = new URLSearchParams();
      if (opts.flags !== undefined) q.set('flags', String(opts.flags));
      if (opts.cas !== undefined) q.set('cas', String(opts.cas));
      const res = await call('PUT', `kv/${enc(key)}${q.size ? `?${q}` : ''}`, value);
      if (!res.ok) throw await failure(res, `PUT kv/${key}`);
      return (await res.json()) as boolean;
    },
    async kvDelete(key, opts = {}) {
      const q = new URLSearchParams();
      if (opts.recurse) q.set('recurse', 'true');
      if (opts.cas !== undefined) q.set('cas', String(opts.cas));
      const res = await call('DELETE', `kv/${enc(key)}${q.size ? `?${q}` : ''}`);
      if (!res.ok) throw await failure(res, `DELETE kv/${key}`);
      return (await res.json()) as boolean;
    },
    async catalogServices() {
      const res = await call('GET', 'catalog/services');
      if (!res.ok) throw await failure(res, 'GET catalog/services');
      return (await res.json()) as Record<string, string[]>;
    },
    async healthService(name) {
      const res = await call('GET', `health/service/${encodeURIComponent(name)}`);
      if (!res.ok) throw await failure(res, `GET health/service/${name}`);
      return (await res.json()) as Awaited<ReturnType<BusHttpClient['healthService']>>;
    },
  };
}
