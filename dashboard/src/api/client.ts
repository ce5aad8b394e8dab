// The dashboard's calls to the control API: same-origin fetches with the session cookie, and errors a person can act on.
import type { KvValueView } from './wire.js';

const BASE = '/v1/machineroom/';

/** A failed call: the HTTP status, the daemon's error code, and a message to show as is. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    /** 409 on KV: the value the key has now. */
    readonly current?: { modifyIndex: number; value: string | null },
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The sentence to show for a 401: how to get a session. */
export const SIGN_IN_HINT = 'open the dashboard link that `machineroom up` printed, or run `machineroom dashboard` for it';

/** Called when a call answers 401 (the session is gone: the page turns read-only). */
let onUnauthorized: () => void = () => undefined;

/** Registers what to do when the daemon says the session is missing or no longer valid. */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

interface ErrorBody {
  code?: string;
  message?: string;
  error?: { code?: string; message?: string };
  current?: { modifyIndex: number; value: string | null };
}

async function explain(res: Response, what: string): Promise<ApiError> {
  let body: ErrorBody = {};
  try {
    body = (await res.json()) as ErrorBody;
  } catch {
    /* not JSON: the status says enough */
  }
  const code = body.error?.code ?? body.code ?? `HTTP_${res.status}`;
  const said = body.error?.message ?? body.message;
  if (res.status === 401) {
    onUnauthorized();
    return new ApiError(`${what}: not signed in — ${SIGN_IN_HINT}.`, 401, code);
  }
  if (res.status === 403) return new ApiError(`${what}: refused by the daemon${said ? ` (${said})` : ''}. Reload the dashboard from the link \`machineroom up\` printed.`, 403, code);
  if (res.status === 409) return new ApiError(said ?? `${what}: someone else changed it first; reload and retry.`, 409, code, body.current);
  return new ApiError(`${what}: ${said ?? `the daemon answered ${res.status} ${res.statusText}`}`, res.status, code);
}

async function call<T>(method: string, path: string, what: string, body?: { json: unknown } | { text: string }): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: {} };
  if (body && 'json' in body) {
    init.body = JSON.stringify(body.json);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  } else if (body) {
    init.body = body.text;
    (init.headers as Record<string, string>)['content-type'] = 'application/octet-stream';
  }
  let res: Response;
  try {
    res = await fetch(BASE + path, init);
  } catch (err) {
    throw new ApiError(`${what}: the daemon did not answer (${(err as Error).message}); is it still running?`, 0, 'ERR_NETWORK');
  }
  if (!res.ok) throw await explain(res, what);
  return (await res.json()) as T;
}

/** A KV key as a URL path (each segment encoded, the slashes kept). */
export function kvPath(key: string): string {
  return 'kv/' + key.split('/').map(encodeURIComponent).join('/');
}

/** The control API as the dashboard uses it. */
export const api = {
  session: () => call<{ authenticated: boolean }>('GET', 'session', 'checking the session'),
  scale: (service: string, replicas: number) => call<{ ok: true }>('POST', 'scale', `scaling ${service} to ${replicas}`, { json: { [service]: replicas } }),
  restart: (target: string) => call<{ restarted: string[] }>('POST', 'restart', `restarting ${target}`, { json: { target } }),
  stop: (service: string) => call<{ ok: true }>('POST', 'stop', `stopping ${service}`, { json: { service } }),
  start: (service: string) => call<{ ok: true }>('POST', 'start', `starting ${service}`, { json: { service } }),
  kvGet: (key: string) => call<KvValueView>('GET', kvPath(key), `reading ${key}`),
  /** Writes `value` only if the key is still at `cas` (0: only if it does not exist). */
  kvPut: (key: string, value: string, cas: number) => call<{ ok: true; modifyIndex: number }>('PUT', `${kvPath(key)}?cas=${cas}`, `saving ${key}`, { text: value }),
  /** Deletes the key only if it is still at `cas`. */
  kvDelete: (key: string, cas: number) => call<{ ok: true }>('DELETE', `${kvPath(key)}?cas=${cas}`, `deleting ${key}`),
};
