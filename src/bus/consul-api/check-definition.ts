// Consul check definitions (the CheckType of a service registration, the body of agent/check/register): decoded,
// validated with Consul's messages, named as Consul names them, and described for agent/checks.
import type { CheckStatus } from '../index.js';
import { badRequest } from './consul-error.js';
import type { FieldReader } from './decode-fields.js';
import { formatDurationMs } from './go-duration.js';
import type { CheckLimits, CheckView } from './api-context.js';

/** A check as machineroom runs it; plain JSON, so it is also the durable record. */
export interface CheckDef {
  CheckID: string;
  Name: string;
  Notes: string;
  /** The service it belongs to ('' for a node-level check). */
  ServiceID: string;
  /** The status until the first result (Consul: critical unless given). */
  Status?: CheckStatus;
  kind: 'http' | 'tcp' | 'ttl' | 'script';
  HTTP?: string;
  Method?: string;
  Header?: Record<string, string[]>;
  Body?: string;
  TLSSkipVerify?: boolean;
  TLSServerName?: string;
  TCP?: string;
  Args?: string[];
  IntervalMs?: number;
  TimeoutMs?: number;
  TtlMs?: number;
  DeregisterCriticalServiceAfterMs?: number;
  SuccessBeforePassing?: number;
  FailuresBeforeCritical?: number;
}

/** The check fields as sent, before naming and validation. */
export interface RawCheck {
  CheckID?: string;
  Name?: string;
  Notes?: string;
  ServiceID?: string;
  Status?: string;
  HTTP?: string;
  Method?: string;
  Header?: Record<string, string[]>;
  Body?: string;
  TLSSkipVerify?: boolean;
  TLSServerName?: string;
  TCP?: string;
  Args?: string[];
  Script?: string;
  IntervalMs?: number;
  TimeoutMs?: number;
  TtlMs?: number;
  DeregisterCriticalServiceAfterMs?: number;
  SuccessBeforePassing?: number;
  FailuresBeforeCritical?: number;
  OutputMaxSize?: number;
  /** Kinds Consul knows and machineroom does not run (GRPC, H2PING, UDP, OSService, Alias, Docker). */
  unsupported?: string;
  empty: boolean;
}

const SCRIPTS_DISABLED = "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true";

const UNSUPPORTED_KINDS: [string[], string][] = [
  [['GRPC'], 'GRPC'],
  [['H2PING'], 'H2PING'],
  [['UDP'], 'UDP'],
  [['OSService'], 'OSService'],
  [['AliasNode', 'AliasService'], 'Alias'],
  [['DockerContainerID'], 'Docker'],
];

/** Decodes one check object (field names case- and underscore-insensitive, durations as text or nanoseconds). */
export function decodeCheck(r: FieldReader): RawCheck {
  let header: Record<string, string[]> | undefined;
  const rawHeader = r.object('Header');
  if (rawHeader) {
    header = {};
    for (const name of Object.keys(rawHeader.obj)) header[name] = rawHeader.strings(name) ?? [];
  }
  const unsupported = UNSUPPORTED_KINDS.find(([fields]) => fields.some((f) => {
    const v = r.raw(f);
    return v !== undefined && v !== '';
  }))?.[1];
  const raw: RawCheck = {
    CheckID: r.string('CheckID', 'ID'),
    Name: r.string('Name'),
    Notes: r.string('Notes'),
    ServiceID: r.string('ServiceID'),
    Status: r.string('Status'),
    HTTP: r.string('HTTP'),
    Method: r.string('Method'),
    Header: header,
    Body: r.string('Body'),
    TLSSkipVerify: r.bool('TLSSkipVerify'),
    TLSServerName: r.string('TLSServerName'),
    TCP: r.string('TCP'),
    Args: r.strings('Args', 'ScriptArgs'),
    Script: r.string('Script'),
    IntervalMs: r.duration('Interval'),
    TimeoutMs: r.duration('Timeout'),
    TtlMs: r.duration('TTL'),
    DeregisterCriticalServiceAfterMs: r.duration('DeregisterCriticalServiceAfter'),
    SuccessBeforePassing: r.int('SuccessBeforePassing'),
    FailuresBeforeCritical: r.int('FailuresBeforeCritical'),
    OutputMaxSize: r.int('OutputMaxSize'),
    ...(unsupported ? { unsupported } : {}),
    empty: Object.keys(r.obj).length === 0,
  };
  return raw;
}

function isStatus(s: string): s is CheckStatus {
  return s === 'passing' || s === 'warning' || s === 'critical';
}

/** Consul's CheckType.Validate, then machineroom's own limits; throws 400 "Invalid check: ...". */
function validateType(raw: RawCheck, scriptChecks: boolean): CheckDef['kind'] {
  const invalid = (why: string) => badRequest(`Invalid check: ${why}`);
  const isScript = (raw.Args?.length ?? 0) > 0 || !!raw.Script;
  const intervalCheck = isScript || !!raw.HTTP || !!raw.TCP || (!!raw.unsupported && raw.unsupported !== 'Alias');
  const interval = raw.IntervalMs ?? 0;
  const ttl = raw.TtlMs ?? 0;
  if (interval > 0 && ttl > 0) throw invalid('Interval and TTL cannot both be specified');
  if (intervalCheck && interval <= 0) throw invalid('Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks');
  if (raw.unsupported === 'Alias' && ttl > 0) throw invalid('TTL must be not be set for Alias checks');
  if (!intervalCheck && raw.unsupported !== 'Alias' && ttl <= 0) throw invalid('TTL must be > 0 for TTL checks');
  if ((raw.OutputMaxSize ?? 0) < 0) throw invalid('MaxOutputMaxSize must be positive');
  if (isScript && !scriptChecks) throw badRequest(SCRIPTS_DISABLED);
  if (raw.unsupported) throw invalid(`${raw.unsupported} checks are not supported by machineroom (use HTTP, TCP, TTL or Args)`);
  if (raw.HTTP) {
    let url: URL;
    try {
      url = new URL(raw.HTTP);
    } catch {
      throw invalid(`HTTP must be a URL like "http://127.0.0.1:8080/health", got ${JSON.stringify(raw.HTTP)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`HTTP must be an http:// or https:// URL, got ${JSON.stringify(raw.HTTP)}`);
    return 'http';
  }
  if (raw.TCP) {
    const m = /^(.*):([0-9]{1,5})$/.exec(raw.TCP);
    if (!m || Number(m[2]) > 65535) throw invalid(`TCP must be "host:port", like "127.0.0.1:5432", got ${JSON.stringify(raw.TCP)}`);
    return 'tcp';
  }
  if (isScript) return 'script';
  return 'ttl';
}

/** Validates and names a check: Consul's defaults for ID, name, status, timeout; its minimum interval and reap delay. */
export function resolveCheck(
  raw: RawCheck,
  opts: {
    scriptChecks: boolean;
    limits: CheckLimits;
    /** The auto ID when none is given (service checks: "service:<id>[:n]"); check/register uses the name. */
    defaultId: string | undefined;
    defaultName: string | undefined;
    serviceId: string;
    statusMessage: string;
  },
): CheckDef {
  if (raw.Status !== undefined && raw.Status !== '' && !isStatus(raw.Status)) throw badRequest(opts.statusMessage);
  const kind = validateType(raw, opts.scriptChecks);
  const name = raw.Name || opts.defaultName || '';
  const checkId = raw.CheckID || opts.defaultId || name;
  const def: CheckDef = {
    CheckID: checkId,
    Name: name,
    Notes: raw.Notes ?? '',
    ServiceID: opts.serviceId,
    kind,
  };
  if (raw.Status) def.Status = raw.Status as CheckStatus;
  if (kind === 'ttl') def.TtlMs = raw.TtlMs!;
  else {
    def.IntervalMs = Math.max(raw.IntervalMs!, opts.limits.minIntervalMs);
    def.TimeoutMs = raw.TimeoutMs && raw.TimeoutMs > 0 ? raw.TimeoutMs : kind === 'script' ? 30_000 : 10_000;
  }
  if (kind === 'http') {
    def.HTTP = raw.HTTP!;
    if (raw.Method) def.Method = raw.Method;
    if (raw.Header) def.Header = raw.Header;
    if (raw.Body) def.Body = raw.Body;
    if (raw.TLSSkipVerify !== undefined) def.TLSSkipVerify = raw.TLSSkipVerify;
    if (raw.TLSServerName) def.TLSServerName = raw.TLSServerName;
  }
  if (kind === 'tcp') def.TCP = raw.TCP!;
  if (kind === 'script') def.Args = raw.Args?.length ? raw.Args : ['/bin/sh', '-c', raw.Script!];
  if (raw.DeregisterCriticalServiceAfterMs && raw.DeregisterCriticalServiceAfterMs > 0 && opts.serviceId) {
    def.DeregisterCriticalServiceAfterMs = Math.max(raw.DeregisterCriticalServiceAfterMs, opts.limits.minDeregisterCriticalAfterMs);
  }
  if (raw.SuccessBeforePassing) def.SuccessBeforePassing = raw.SuccessBeforePassing;
  if (raw.FailuresBeforeCritical) def.FailuresBeforeCritical = raw.FailuresBeforeCritical;
  return def;
}

/** How agent/checks shows a check: its Type, Interval/Timeout and Definition. */
export function viewOfCheck(def: CheckDef): CheckView {
  const definition: Record<string, unknown> = {};
  if (def.HTTP) definition.HTTP = def.HTTP;
  if (def.TLSServerName) definition.TLSServerName = def.TLSServerName;
  if (def.TLSSkipVerify) definition.TLSSkipVerify = true;
  if (def.Header) definition.Header = def.Header;
  if (def.Method) definition.Method = def.Method;
  if (def.Body) definition.Body = def.Body;
  if (def.TCP) definition.TCP = def.TCP;
  if (def.IntervalMs) definition.Interval = formatDurationMs(def.IntervalMs);
  if (def.TimeoutMs) definition.Timeout = formatDurationMs(def.TimeoutMs);
  if (def.TtlMs) definition.TTL = formatDurationMs(def.TtlMs);
  if (def.DeregisterCriticalServiceAfterMs) definition.DeregisterCriticalServiceAfter = formatDurationMs(def.DeregisterCriticalServiceAfterMs);
  if (def.Args) definition.ScriptArgs = def.Args;
  return {
    Type: def.kind,
    Notes: def.Notes,
    Interval: def.IntervalMs ? formatDurationMs(def.IntervalMs) : '',
    Timeout: def.TimeoutMs ? formatDurationMs(def.TimeoutMs) : '',
    Definition: definition,
  };
}
