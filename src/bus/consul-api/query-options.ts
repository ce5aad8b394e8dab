// The query parameters every Consul endpoint shares: dc, consistency, blocking (index/wait), token, filter, near.
import { badRequest, rpcError } from './consul-error.js';
import { parseDurationMs } from './go-duration.js';

/** Consul's default blocking wait (DefaultQueryTime). */
export const DEFAULT_WAIT_MS = 5 * 60_000;
/** Consul's longest blocking wait (MaxQueryTime); longer ?wait values are cut to it. */
export const MAX_WAIT_MS = 10 * 60_000;

/** Parameters Consul recognises whose meaning machineroom does not implement; they would change results, so 400. */
const UNSUPPORTED_PARAMS: Record<string, string> = {
  peer: 'cluster peering is not supported by machineroom',
  sg: 'sameness groups are not supported by machineroom',
  sampling: 'sampling is not supported by machineroom',
  'merge-central-config': 'central service configuration is not supported by machineroom',
};

/** The parsed common options of one request. */
export interface QueryOptions {
  readonly params: URLSearchParams;
  readonly pretty: boolean;
  /** What X-Consul-Effective-Consistency reports. */
  readonly consistency: 'leader' | 'stale' | 'consistent';
  readonly cached: boolean;
  /** ?index: block until the result's index exceeds it (0: answer at once). */
  readonly minIndex: number;
  /** ?wait capped at 10m (default 5m) plus Consul's jitter of up to wait/16. */
  readonly waitMs: number;
  readonly filter: string | undefined;
  /** ?near, "_agent" resolved to the agent's node. */
  readonly near: string | undefined;
  /** ?node-meta pairs (AND). */
  readonly nodeMeta: [string, string][];
  /** The ACL token, accepted and ignored (no ACLs). */
  readonly token: string | undefined;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** Consul's getBoolQueryParam: absent false, bare true, else ParseBool (invalid → 400 with `message`). */
export function boolParam(params: URLSearchParams, name: string, message: string): boolean {
  if (!params.has(name)) return false;
  const raw = params.get(name) ?? '';
  if (raw === '') return true;
  const value = parseGoBool(raw);
  if (value === undefined) throw badRequest(message);
  return value;
}

/** Go's strconv.ParseUint for query values; undefined when absent; 400 with `message` when not an unsigned integer. */
export function uintParam(params: URLSearchParams, name: string, message: (raw: string) => string): number | undefined {
  if (!params.has(name)) return undefined;
  const raw = params.get(name) ?? '';
  if (!/^[0-9]+$/.test(raw) || raw.length > 20 || BigInt(raw) > 18446744073709551615n) throw badRequest(message(raw));
  return Math.min(Number(raw), Number.MAX_SAFE_INTEGER);
}

/** Consul's ParseMetaPair: "key:value" (no colon: the whole text is the key with an empty value). */
function parseMetaPair(text: string): [string, string] {
  const i = text.indexOf(':');
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
}

/** The token, by Consul's precedence: ?token, X-Consul-Token, then "Authorization: Bearer". */
function tokenOf(req: Request, params: URLSearchParams): string | undefined {
  const fromQuery = params.get('token');
  if (fromQuery) return fromQuery;
  const fromHeader = req.headers.get('x-consul-token');
  if (fromHeader) return fromHeader;
  const auth = req.headers.get('authorization') ?? '';
  const parts = auth.split(' ');
  if (parts.length > 1 && parts[0] === 'Bearer') return parts.slice(1).join(' ').trim().split(' ')[0] || undefined;
  return undefined;
}

function isDefaultTenancy(value: string | null): boolean {
  return value === null || value === '' || value.toLowerCase() === 'default';
}

/** Parses and validates the shared options; throws ConsulHttpError with Consul's wording. */
export function parseQueryOptions(req: Request, params: URLSearchParams, agent: { datacenter: string; nodeName: string }): QueryOptions {
  const dc = params.get('dc');
  if (dc && dc !== agent.datacenter) throw rpcError('No path to datacenter');
  for (const [name, why] of Object.entries(UNSUPPORTED_PARAMS)) {
    const value = params.get(name);
    if (value !== null && value !== '') throw badRequest(`Invalid query parameter: "${name}" - ${why}`);
  }
  if (req.headers.get('x-consul-namespace') && !isDefaultTenancy(req.headers.get('x-consul-namespace'))) {
    throw badRequest('Invalid header: "X-Consul-Namespace" - Namespaces are a Consul Enterprise feature');
  }
  if (!isDefaultTenancy(params.get('ns'))) throw badRequest('Bad request: Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature');
  if (!isDefaultTenancy(params.get('partition'))) throw badRequest('Bad request: Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature');

  let stale = params.has('stale');
  const consistent = params.has('consistent');
  const cached = params.has('cached');
  const maxStale = params.get('max_stale');
  if (maxStale) {
    let ms: number;
    try {
      ms = parseDurationMs(maxStale);
    } catch {
      throw badRequest(`Invalid max_stale value ${JSON.stringify(maxStale)}`);
    }
    if (ms > 0) stale = true;
  }
  if (stale && consistent) throw badRequest('Cannot specify ?stale with ?consistent, conflicting semantics.');
  if (cached && consistent) throw badRequest('Cannot specify ?cached with ?consistent, conflicting semantics.');

  let waitMs = DEFAULT_WAIT_MS;
  const wait = params.get('wait');
  if (wait) {
    try {
      waitMs = parseDurationMs(wait);
    } catch {
      throw badRequest('Invalid wait time');
    }
    if (waitMs <= 0) waitMs = DEFAULT_WAIT_MS;
  }
  waitMs = Math.min(waitMs, MAX_WAIT_MS);
  waitMs += Math.random() * (waitMs / 16);
  const index = params.get('index');
  let minIndex = 0;
  if (index) {
    if (!/^[0-9]+$/.test(index) || index.length > 20 || BigInt(index) > 18446744073709551615n) throw badRequest('Invalid index');
    minIndex = Math.min(Number(index), Number.MAX_SAFE_INTEGER);
  }

  const near = params.get('near') || undefined;
  return {
    params,
    pretty: params.has('pretty'),
    consistency: consistent ? 'consistent' : stale ? 'stale' : 'leader',
    cached,
    minIndex,
    waitMs,
    filter: params.get('filter') || undefined,
    near: near === '_agent' ? agent.nodeName : near,
    nodeMeta: params.getAll('node-meta').map(parseMetaPair),
    token: tokenOf(req, params),
  };
}
