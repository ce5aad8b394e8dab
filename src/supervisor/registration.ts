// What an instance registers on the bus: one service per instance (per port when registrator's conventions ask for it),
// with its tags, meta and checks; registrator's SERVICE_* environment conventions are honoured as imported fig files use them.
import { parseDuration } from '../config/index.js';
import type { ResolvedHealth, ResolvedService } from '../config/index.js';
import type { CheckStatus, ServiceInput } from '../bus/index.js';
import type { Machine } from '../machines/index.js';

/** A check that registrator's SERVICE_CHECK_* variables ask for. */
export type ConventionCheck =
  | { kind: 'runner'; checkId: string; health: ResolvedHealth; port: number | undefined; initialStatus?: CheckStatus; deregisterAfter?: number }
  | { kind: 'ttl'; checkId: string; ttl: number; initialStatus?: CheckStatus; deregisterAfter?: number };

/** One service registration of an instance. */
export interface InstanceRegistration {
  service: ServiceInput;
  checks: ConventionCheck[];
}

/** The identity of the instance being registered. */
export interface RegistrationIdentity {
  name: string;
  index: number;
  version: string;
  project: string;
}

const DEFAULT_CHECK_INTERVAL = 10_000; // registrator's default for non-TTL checks

/** SERVICE_* keys (lower-cased, prefix removed) for one port: port-specific keys override the general ones. */
function attrsFor(env: Record<string, string>, port: number | undefined): Map<string, string> {
  const general = new Map<string, string>();
  const specific = new Map<string, string>();
  for (const [key, value] of Object.entries(env)) {
    const m = /^SERVICE_(?:(\d+)_)?(.+)$/.exec(key);
    if (!m) continue;
    const attr = m[2]!.toLowerCase();
    if (m[1] === undefined) general.set(attr, value);
    else if (port !== undefined && Number(m[1]) === port) specific.set(attr, value);
  }
  return new Map([...general, ...specific]);
}

function usesConventions(env: Record<string, string>): boolean {
  return Object.keys(env).some((k) => /^SERVICE_/.test(k));
}

function splitTags(text: string | undefined): string[] {
  if (!text) return [];
  // registrator: comma separated, "\," escapes a comma.
  return text
    .split(/(?<!\\),/)
    .map((t) => t.replace(/\\,/g, ',').trim())
    .filter(Boolean);
}

function duration(text: string | undefined, fallback: number): number {
  if (!text) return fallback;
  return parseDuration(text) ?? fallback;
}

function initialStatus(text: string | undefined): CheckStatus | undefined {
  return text === 'passing' || text === 'warning' || text === 'critical' ? text : undefined;
}

function conventionChecks(attrs: Map<string, string>, id: string, port: number | undefined): ConventionCheck[] {
  const interval = duration(attrs.get('check_interval'), DEFAULT_CHECK_INTERVAL);
  const timeout = duration(attrs.get('check_timeout'), Math.min(interval, 2000));
  const status = initialStatus(attrs.get('check_initial_status'));
  const deregisterAfter = attrs.get('check_deregister_after') ? duration(attrs.get('check_deregister_after'), 0) : undefined;
  const extra = { ...(status ? { initialStatus: status } : {}), ...(deregisterAfter ? { deregisterAfter } : {}) };
  const base = { interval, timeout, startPeriod: 0, successThreshold: 1, failureThreshold: 1, restart: false };
  const checkId = `service:${id}:registrator`;
  // registrator: the first of these that is set wins.
  const http = attrs.get('check_http');
  if (http) return [{ kind: 'runner', checkId, port, health: { ...base, kind: 'http', path: http.startsWith('/') ? http : `/${http}` }, ...extra }];
  const cmd = attrs.get('check_cmd') ?? attrs.get('check_script');
  if (cmd) return [{ kind: 'runner', checkId, port, health: { ...base, kind: 'cmd', command: ['/bin/sh', '-c', cmd] }, ...extra }];
  const ttl = attrs.get('check_ttl');
  if (ttl) return [{ kind: 'ttl', checkId, ttl: duration(ttl, 30_000), ...extra }];
  if (attrs.get('check_tcp')) return [{ kind: 'runner', checkId, port, health: { ...base, kind: 'tcp' }, ...extra }];
  return [];
}

const CHECK_ATTRS = /^(check_|name$|tags$|id$|ignore$)/;

/** Every registration of an instance, the primary (ID = instance name, carrying the config's health check) first. */
export function registrationsOf(spec: ResolvedService, machine: Machine, id: RegistrationIdentity): InstanceRegistration[] {
  const ownMeta = { 'machineroom-version': id.version, 'machineroom-instance': String(id.index), 'machineroom-project': id.project };
  const ports = spec.ports.length ? spec.ports : [undefined];
  const conventions = usesConventions(spec.env);
  const out: InstanceRegistration[] = [];
  ports.forEach((p, i) => {
    if (i > 0 && !conventions) return; // without registrator's conventions: one registration, on the primary port
    const configured = p?.port;
    const attrs = conventions ? attrsFor(spec.env, configured) : new Map<string, string>();
    if (attrs.has('ignore')) return;
    const portSpecificName = configured !== undefined && spec.env[`SERVICE_${configured}_NAME`] !== undefined;
    let name = attrs.get('name') ?? spec.name;
    if (conventions && ports.length > 1 && !portSpecificName && configured !== undefined) name = `${name}-${configured}`;
    // The primary registration's ID is the instance's name (alpha.1) so checks and routing find it; SERVICE_ID is not
    // honoured, as one fixed ID cannot serve several replicas.
    const serviceId = i === 0 ? id.name : `${id.name}:${configured}`;
    const actualPort = p ? machine.ports[p.name] : undefined;
    const meta: Record<string, string> = { ...spec.meta };
    for (const [k, v] of attrs) if (!CHECK_ATTRS.test(k)) meta[k] = v;
    out.push({
      service: {
        ID: serviceId,
        Service: name,
        Tags: [...new Set([...spec.tags, ...splitTags(attrs.get('tags'))])],
        Address: machine.address,
        Port: actualPort ?? 0,
        Meta: { ...meta, ...ownMeta },
        Node: machine.name,
      },
      checks: conventions ? conventionChecks(attrs, serviceId, actualPort) : [],
    });
  });
  return out;
}
