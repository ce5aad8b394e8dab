// The service bus's key/value store through the Consul HTTP API: where the bus is (CONSUL_HTTP_ADDR, as Consul's own
// tools read it) and a watch on a key prefix with blocking queries, following Consul's rules for the index
// (https://developer.hashicorp.com/consul/api-docs/features/blocking).
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The bus's base URL from CONSUL_HTTP_ADDR: "127.0.0.1:8500" or "http://127.0.0.1:8500" (https with CONSUL_HTTP_SSL=true). */
export function busUrl(env = process.env) {
  const addr = (env.CONSUL_HTTP_ADDR || '127.0.0.1:8500').trim();
  const scheme = env.CONSUL_HTTP_SSL === 'true' ? 'https' : 'http';
  return (/^[a-z][a-z0-9+.-]*:\/\//i.test(addr) ? addr : `${scheme}://${addr}`).replace(/\/+$/, '');
}

/** Headers for every bus request (an ACL token when the environment carries one). */
export function busHeaders(env = process.env) {
  return env.CONSUL_HTTP_TOKEN ? { 'x-consul-token': env.CONSUL_HTTP_TOKEN } : {};
}

/** A short description of a failed request: the socket's error code and message, or the timeout. */
export function describeError(err) {
  if (err?.name === 'TimeoutError') return 'no answer in time';
  if (err?.code) return `${err.code}${err.message && !err.message.startsWith(err.code) && !err.message.includes(err.code) ? ` (${err.message})` : ''}`;
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

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Watches every key under `prefix`: calls onData(values) with { suffix: string } once at start and again whenever the
 * values change, and onError(err, failures) when the bus cannot be asked (then backs off, 0.25 s doubling up to 5 s, and keeps trying).
 * `first` settles after the first answer or the first failure; close() stops the loop.
 */
export function watchPrefix({ base, prefix, headers = {}, waitSeconds = 30, onData, onError }) {
  const stop = new AbortController();
  let settleFirst;
  const first = new Promise((resolve) => (settleFirst = resolve));
  const keyPath = prefix.split('/').map(encodeURIComponent).join('/');
  // Consul answers a blocking query after `wait` plus up to wait/16 of jitter; anything much later is a hung bus.
  const requestTimeoutMs = waitSeconds * 1000 * (17 / 16) + 5000;

  const done = (async () => {
    let index = 0;
    let last;
    let failures = 0;
    while (!stop.signal.aborted) {
      const started = Date.now();
      try {
        const query = index > 0 ? `&index=${index}&wait=${waitSeconds}s` : '';
        const res = await busRequest(`${base}/v1/kv/${keyPath}?recurse${query}`, { headers, signal: stop.signal, timeoutMs: requestTimeoutMs });
        // 404 is "no keys under the prefix", which is an answer like any other.
        if (res.status !== 200 && res.status !== 404) throw new Error(`the bus answered ${res.status}: ${res.text.trim().slice(0, 200)}`);
        const entries = res.status === 200 ? JSON.parse(res.text) : [];
        const next = Number(res.headers['x-consul-index']);
        // Consul's rules: an index that went backwards (the bus lost or reset its data) starts the loop over from 0;
        // an index that is not above 0 would make every query return at once, so it becomes 1.
        if (!(next > 0)) index = 1;
        else if (next < index) index = 0;
        else index = next;
        failures = 0;

        const values = {};
        for (const e of Array.isArray(entries) ? entries : []) {
          if (typeof e?.Key !== 'string' || !e.Key.startsWith(prefix)) continue;
          values[e.Key.slice(prefix.length)] = e.Value == null ? '' : Buffer.from(e.Value, 'base64').toString('utf8');
        }
        // A blocking query's return is no promise of change (a timeout, or another key's write): report real changes only.
        const text = JSON.stringify(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1)));
        if (text !== last) {
          onData(values);
          last = text;
        }
        settleFirst();
        // Rate limit: never more than ten requests a second, whatever the bus does.
        const spent = Date.now() - started;
        if (spent < 100) await sleep(100 - spent, stop.signal);
      } catch (err) {
        if (stop.signal.aborted) break;
        failures += 1;
        // The bus may come back as another bus (restarted, data lost): a blocking query with an index from its
        // previous life could wait out the whole `wait` before showing that, so start over with a plain read.
        index = 0;
        const delay = Math.min(5000, 250 * 2 ** (failures - 1));
        onError(err, failures, delay);
        settleFirst();
        await sleep(delay * (0.75 + Math.random() * 0.25), stop.signal);
      }
    }
  })();

  return {
    first,
    close() {
      stop.abort();
      return done;
    },
  };
}
