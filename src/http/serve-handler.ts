// Serves `Request → Response` handlers on a node http server, streaming bodies both ways; answers built with
// bufferedResponse() are written straight from their bytes (reading a web Response body back is slow in Node 20).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createLogger } from '../log/index.js';

const log = createLogger('http');

/** A handler in the house style: a web Request in, a web Response out (testable in-process). */
export type Handler = (req: Request, info: { remoteAddress: string }) => Promise<Response>;

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const host = req.headers.host ?? '127.0.0.1';
  const url = `http://${host}${req.url ?? '/'}`;
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const item of v) headers.append(k, item);
    else if (v !== undefined) headers.set(k, v);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL(`http://invalid.invalid${req.url ?? '/'}`);
  }
  return new Request(parsed, {
    method,
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(req) as unknown as ReadableStream, duplex: 'half' } : {}),
  } as RequestInit);
}

const rawBodies = new WeakMap<Response, Buffer>();

/** A Response whose bytes the server can write without reading the web stream back (still a normal Response in-process). */
export function bufferedResponse(body: string | Buffer, init: ResponseInit = {}): Response {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const response = new Response(bytes, init);
  rawBodies.set(response, bytes);
  return response;
}

/** Streams that must reach the client as they are produced (log and event followers); everything else is sent whole. */
const STREAMING = /^(application\/x-ndjson|text\/event-stream)/;

async function writeResponse(res: ServerResponse, response: Response, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  if (!response.body) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const raw = rawBodies.get(response);
  if (raw) {
    headers['content-length'] = String(raw.length);
    res.writeHead(response.status, headers);
    res.end(raw);
    void response.body.cancel().catch(() => undefined);
    return;
  }
  if (!STREAMING.test(response.headers.get('content-type') ?? '')) {
    // Head and body in one write: separate small writes meet Nagle and delayed ACKs and cost tens of milliseconds.
    let body: Buffer;
    try {
      body = Buffer.from(await response.arrayBuffer());
    } catch {
      body = Buffer.alloc(0);
    }
    headers['content-length'] = String(body.length);
    res.writeHead(response.status, headers);
    res.end(body);
    return;
  }
  res.writeHead(response.status, headers);
  const reader = response.body.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((r) => res.once('drain', r).once('close', r));
      if (res.destroyed) break;
    }
  } catch {
    /* the client went away or the stream was cancelled */
  } finally {
    signal.removeEventListener('abort', cancel);
    res.end();
  }
}

/** Attaches `handler` to `server`. */
export function serveHandler(server: Server, handler: Handler): void {
  server.on('connection', (sock) => sock.setNoDelay(true));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    void (async () => {
      let response: Response;
      try {
        response = await handler(toRequest(req, ac.signal), { remoteAddress: req.socket.remoteAddress ?? '' });
      } catch (err) {
        log.error(`handler failed for ${req.method} ${req.url}`, err);
        response = new Response(JSON.stringify({ code: 'ERR_INTERNAL', message: (err as Error).message }), { status: 500, headers: { 'content-type': 'application/json' } });
      }
      await writeResponse(res, response, ac.signal);
    })();
  });
}
