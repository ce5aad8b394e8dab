// JSON answers of the dashboard's control-API routes, in the control API's conventions (version header, no caching).
import { bufferedResponse } from '../http/index.js';
import { VERSION_HEADER } from '../client/index.js';

/** A JSON answer carrying the daemon's version. */
export function jsonResponse(status: number, body: unknown, version: string): Response {
  return bufferedResponse(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', [VERSION_HEADER]: version } });
}
