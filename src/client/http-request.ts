// A small HTTP client over node:http for the CLI's calls to its daemon and bus. fetch would do, but loading it (undici
// and its WebAssembly parser) costs every CLI command ~200 ms of CPU, taken from the instances `up` is starting.
import { Agent, request } from 'node:http';
import type { IncomingMessage } from 'node:http';

/** An answer whose body is read once, as text, JSON, chunks, or not at all. */
export interface HttpAnswer {
  readonly status: number;
  readonly ok: boolean;
  header(name: string): string | undefined;
  text(): Promise<string>;
  json<T>(): Promise<T>;
  /** The body as it arrives (ends early with an AbortError when the request's signal aborts). */
  chunks(): AsyncIterable<Buffer>;
  /** Discards the body (the connection goes back to the pool). */
  discard(): void;
}

// Kept-alive sockets are unref'd by node while idle, so they never hold a finished command open.
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function answerOf(res: IncomingMessage): HttpAnswer {
  const status = res.statusCode ?? 0;
  const text = async (): Promise<string> => {
    const parts: Buffer[] = [];
    for await (const chunk of res) parts.push(chunk as Buffer);
    return Buffer.concat(parts).toString('utf8');
  };
  return {
    status,
    ok: status >= 200 && status < 300,
    header: (name) => {
      const v = res.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    text,
    json: async <T>() => JSON.parse(await text()) as T,
    chunks: () => res as AsyncIterable<Buffer>,
    discard: () => void res.resume(),
  };
}

/** Sends one request to an http:// URL; rejects on a connection error or abort (AbortError), never on a status. */
export function httpRequest(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; signal?: AbortSignal } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        agent,
        headers: { ...opts.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (res) => resolve(answerOf(res)),
    );
    req.once('error', reject);
    req.end(body);
  });
}
