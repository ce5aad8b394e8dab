// What shapes DNS answers and the server: user options, and the resolved form the hot path reads.
import type { BusStore } from '../bus/index.js';

/** Options that shape answers (shared by the server and `answerQuery`). */
export interface DnsAnswerOptions {
  /** The domain served, default "consul" (a trailing dot is fine). */
  domain?: string;
  /** A second domain answered like the first (Consul's alt_domain); answers use the domain that was asked. */
  altDomain?: string;
  /** TTLs in seconds (default 0): `node` for node and addr lookups, `service` by service name, with `*` and `prefix*` wildcards. */
  ttl?: { node?: number; service?: Record<string, number> };
  /** Upstream resolvers ("ip:port" or "ip") for names outside the domain; their presence also sets RA. */
  recursors?: string[];
  /** Leave out instances in warning too, not only critical ones (Consul's dns_config.only_passing; default false). */
  onlyPassing?: boolean;
  /** At most this many A/AAAA records per answer (Consul's a_record_limit; default unlimited). */
  aRecordLimit?: number;
}

/** Options of the DNS server. */
export interface DnsServerOptions extends DnsAnswerOptions {
  /** Where answers come from. */
  store: BusStore;
  /** Address to bind UDP and TCP on (default 127.0.0.1). */
  host?: string;
  /** Port for both UDP and TCP; 0 picks a free one that is free for both. */
  port: number;
  /** Set TC when a UDP answer is cut to fit 512 bytes or the client's EDNS0 size (default true; Consul's enable_truncate). */
  enableTruncate?: boolean;
  /** Seconds each recursor gets before the next is tried (default 2; Consul's recursor_timeout). */
  recursorTimeout?: number;
  /** Milliseconds a TCP connection may sit idle before it is closed (default 8000, as miekg/dns). */
  tcpIdleTimeoutMs?: number;
}

/** Answer options with defaults applied and the domain normalised (lower case, no dots at either end). */
export interface ResolvedDnsOptions {
  readonly domain: string;
  readonly altDomain: string | undefined;
  readonly nodeTtl: number;
  /** The TTL for one service's records. */
  serviceTtl(service: string): number;
  readonly recursors: readonly Recursor[];
  readonly onlyPassing: boolean;
  readonly aRecordLimit: number;
}

/** An upstream resolver's address. */
export interface Recursor {
  host: string;
  port: number;
}

/** Normalises a domain: lower case, no leading or trailing dots. */
export function normalizeDomain(domain: string): string {
  return domain.toLowerCase().replace(/^\.+|\.+$/g, '');
}

/** Splits "ip:port", "[v6]:port", "ip" or "v6" into a recursor (port 53 by default). */
export function parseRecursor(text: string): Recursor {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) return { host: bracket[1]!, port: bracket[2] ? Number(bracket[2]) : 53 };
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = text.split(':') as [string, string];
    return { host, port: Number(port) };
  }
  return { host: text, port: 53 };
}

function clampTtl(seconds: number | undefined): number {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return 0;
  return Math.min(Math.floor(seconds), 0x7fffffff);
}

/** Builds the service TTL lookup: exact name first, then the longest `prefix*`, then `*`, else 0 (Consul's service_ttl). */
function createServiceTtl(table: Record<string, number> | undefined): (service: string) => number {
  if (!table || Object.keys(table).length === 0) return () => 0;
  const exact = new Map<string, number>();
  const prefixes: Array<[string, number]> = [];
  for (const [key, value] of Object.entries(table)) {
    if (key.endsWith('*')) prefixes.push([key.slice(0, -1).toLowerCase(), clampTtl(value)]);
    else exact.set(key.toLowerCase(), clampTtl(value));
  }
  prefixes.sort((a, b) => b[0].length - a[0].length);
  const memo = new Map<string, number>();
  return (service) => {
    let ttl = memo.get(service);
    if (ttl !== undefined) return ttl;
    const name = service.toLowerCase();
    ttl = exact.get(name) ?? prefixes.find(([p]) => name.startsWith(p))?.[1] ?? 0;
    if (memo.size > 4096) memo.clear();
    memo.set(service, ttl);
    return ttl;
  };
}

/** Applies defaults to answer options. */
export function resolveDnsOptions(opts: DnsAnswerOptions = {}): ResolvedDnsOptions {
  const domain = normalizeDomain(opts.domain ?? 'consul');
  const alt = opts.altDomain === undefined ? undefined : normalizeDomain(opts.altDomain);
  const limit = opts.aRecordLimit;
  return {
    domain,
    altDomain: alt && alt !== domain ? alt : undefined,
    nodeTtl: clampTtl(opts.ttl?.node),
    serviceTtl: createServiceTtl(opts.ttl?.service),
    recursors: (opts.recursors ?? []).map(parseRecursor),
    onlyPassing: opts.onlyPassing ?? false,
    aRecordLimit: limit !== undefined && Number.isFinite(limit) && limit > 0 ? Math.floor(limit) : Infinity,
  };
}
