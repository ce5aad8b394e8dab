// Serves `Request → Response` handlers on a node http server, streaming bodies both ways.
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

async function writeResponse(res: ServerResponse, response: Response, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
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
