// Reading request bodies with a size cap, so a huge or endless body cannot exhaust the daemon.
import { ConsulHttpError, badRequest } from './consul-error.js';

/** The cap on JSON bodies (registrations, sessions, transactions are far smaller). */
export const MAX_JSON_BODY = 4 * 1024 * 1024;
/** How much of an unwanted body is read and dropped before answering, so clients still sending it see the answer. */
export const DRAIN_LIMIT = 16 * 1024 * 1024;

/** Reads and drops what is left of a body (up to DRAIN_LIMIT; beyond that the connection is given up). */
export async function drainBody(req: Request): Promise<void> {
  if (!req.body || req.bodyUsed || req.body.locked) return;
  const reader = req.body.getReader();
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
      if (size > DRAIN_LIMIT) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    /* the client went away */
  }
}

/** Reads the whole body, or throws `tooLarge(size)` when it exceeds `limit` bytes (after draining the rest). */
export async function readBody(req: Request, limit: number, tooLarge: (size: number) => ConsulHttpError): Promise<Buffer> {
  const declared = Number(req.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > limit) {
    if (declared <= DRAIN_LIMIT) await drainBody(req);
    throw tooLarge(declared);
  }
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > DRAIN_LIMIT) {
        await reader.cancel().catch(() => undefined);
        break;
      }
      // Past the limit, keep reading (and dropping) so the answer reaches a client still sending.
      if (size <= limit) chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } catch (err) {
    throw badRequest(`Failed to read the request body: ${(err as Error).message}`);
  }
  if (size > limit) throw tooLarge(size);
  return Buffer.concat(chunks, size);
}

/** Decodes a JSON body; an empty body is Go's io.EOF. Throws 400 "<prefix>: <reason>" as Consul words it. */
export async function readJson(req: Request, prefix = 'Request decode failed'): Promise<unknown> {
  const raw = await readBody(req, MAX_JSON_BODY, (size) => new ConsulHttpError(413, `Request body too large (${size} bytes), max size: ${MAX_JSON_BODY} bytes`));
  const text = raw.toString('utf8');
  if (text.trim() === '') throw badRequest(`${prefix}: EOF`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`${prefix}: ${(err as Error).message}`);
  }
}

/** Whether the request carries a non-empty body (Consul's session create treats the body as optional). */
export function hasBody(req: Request): boolean {
  const declared = req.headers.get('content-length');
  if (declared !== null) return Number(declared) > 0;
  return req.body !== null && req.headers.has('transfer-encoding');
}
