// The service bus's key/value store through the Consul HTTP API: where the bus is (CONSUL_HTTP_ADDR, as Consul's own
// tools read it), reading a prefix, and changing several keys at once with a transaction.
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The bus's base URL from CONSUL_HTTP_ADDR: "127.0.0.1:8500" or "http://127.0.0.1:8500" (https with CONSUL_HTTP_SSL=true). */
export function busUrl(env = process.env) {
  const addr = (env.CONSUL_HTTP_ADDR || '127.0.0.1:8500').trim();
  const scheme = env.CONSUL_HTTP_SSL === 'true' ? 'https' : 'http';
  return (/^[a-z][a-z0-9+.-]*:\/\//i.test(addr) ? addr : `${scheme}://${addr}`).replace(/\/+$/, '');
}

/** A failure to talk to the bus: `status` is what beta answers with (502: the upstream it depends on failed). */
export class BusError extends Error {
  constructor(message, code = 'ERR_BUS_UNREACHABLE') {
    super(message);
    this.status = 502;
    this.code = code;
  }
}

/** A short description of a failed request: the socket's error code and message, or the timeout. */
function describe(err) {
  if (err?.name === 'TimeoutError') return 'no answer within 3 s';
  if (err?.code) return `${err.code}${err.message && !err.message.includes(err.code) ? ` (${err.message})` : ''}`;
  return err?.message ?? String(err);
}

/**
 * One HTTP request to the bus with node:http, answered as { status, headers, text }. (fetch would do, but loading it
 * costs a node process ~100 ms of CPU at start, and the demo starts three apps next to PostgreSQL.)
 */
function busRequest(url, { method = 'GET', headers = {}, body, timeoutMs, signal }) {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : request)(url, { method, headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) }, ...(signal ? { signal } : {}) }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    // No answer (headers and body) within timeoutMs: a TimeoutError, as AbortSignal.timeout gives.
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(body);
  });
}

/** A client of one bus's KV store. */
export function createKv({ base = busUrl(), token = process.env.CONSUL_HTTP_TOKEN } = {}) {
  const headers = token ? { 'x-consul-token': token } : {};
  const keyPath = (key) => key.split('/').map(encodeURIComponent).join('/');

  async function call(method, path, body) {
    try {
      const res = await busRequest(`${base}${path}`, { method, headers, body, timeoutMs: 3000 });
      return { status: res.status, text: res.text };
    } catch (err) {
      throw new BusError(`service bus unreachable at ${base}: ${describe(err)}`);
    }
  }

  return {
    base,
    /** Every key under `prefix` as { suffix: value } ({} when there are none). */
    async readPrefix(prefix) {
      const { status, text } = await call('GET', `/v1/kv/${keyPath(prefix)}?recurse`);
      if (status === 404) return {};
      if (status !== 200) throw new BusError(`service bus at ${base} answered ${status} reading KV ${prefix}: ${text.trim().slice(0, 200)}`, 'ERR_BUS_FAILED');
      const values = {};
      for (const e of JSON.parse(text)) {
        if (typeof e?.Key === 'string' && e.Key.startsWith(prefix)) values[e.Key.slice(prefix.length)] = e.Value == null ? '' : Buffer.from(e.Value, 'base64').toString('utf8');
      }
      return values;
    },
    /**
     * Sets and deletes keys in one transaction, so a watcher never sees half a change (a new username with the old
     * password, say). `changes` maps a key to its new value, or to null to delete it.
     */
    async change(changes) {
      const ops = Object.entries(changes).map(([Key, v]) => ({ KV: v === null ? { Verb: 'delete', Key } : { Verb: 'set', Key, Value: Buffer.from(v, 'utf8').toString('base64') } }));
      const { status, text } = await call('PUT', '/v1/txn', JSON.stringify(ops));
      if (status !== 200) throw new BusError(`service bus at ${base} answered ${status} writing KV ${Object.keys(changes).join(', ')}: ${text.trim().slice(0, 200)}`, 'ERR_BUS_FAILED');
    },
  };
}
