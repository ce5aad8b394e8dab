// The body of agent/service/register (Consul's ServiceDefinition): decoded, validated with Consul's messages, its
// checks named "service:<id>" (":n" when several) and "Service '<name>' check".
import { badRequest } from './consul-error.js';
import { FieldReader } from './decode-fields.js';
import { decodeCheck, resolveCheck } from './check-definition.js';
import type { CheckDef, RawCheck } from './check-definition.js';
import type { CheckLimits } from './api-context.js';

/** A service as registered through the agent API; plain JSON, so it is also the durable record. */
export interface ServiceDef {
  ID: string;
  Name: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  Weights: { Passing: number; Warning: number };
  EnableTagOverride: boolean;
  TaggedAddresses: Record<string, { Address: string; Port: number }>;
}

const META_KEY = /^[a-zA-Z0-9_-]+$/;

/** Consul's validateMetaPair over a whole map; undefined when valid, else the reason. */
export function metaProblem(meta: Record<string, string>): string | undefined {
  const entries = Object.entries(meta);
  if (entries.length > 64) return 'Node metadata cannot contain more than 64 key/value pairs';
  for (const [k, v] of entries) {
    if (k === '') return 'Key cannot be blank';
    if (!META_KEY.test(k)) return `Key contains invalid characters`;
    if (k.length > 128) return 'Key is too long (limit: 128 characters)';
    if (k.startsWith('consul-')) return "Key prefix 'consul-' is reserved for internal use";
    if (v.length > 512) return 'Value is too long (limit: 512 characters)';
  }
  return undefined;
}

/** Whether an address is a wildcard, which Consul refuses as a service address. */
export function isAnyAddress(address: string): boolean {
  return ['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0'].includes(address);
}

/** Decodes a service's TaggedAddresses ({name: {Address, Port}}). */
export function decodeServiceTaggedAddresses(r: FieldReader): Record<string, { Address: string; Port: number }> {
  const out: Record<string, { Address: string; Port: number }> = {};
  const tagged = r.object('TaggedAddresses');
  if (!tagged) return out;
  for (const name of Object.keys(tagged.obj)) {
    const entry = tagged.object(name);
    if (entry) out[name] = { Address: entry.string('Address') ?? '', Port: entry.int('Port') ?? 0 };
  }
  return out;
}

/** Rejects parts of Consul's service model machineroom does not run (mesh kinds, sidecars, other tenancies). */
function rejectUnsupported(r: FieldReader): void {
  const kind = r.string('Kind');
  if (kind) throw badRequest(`Invalid service kind ${JSON.stringify(kind)}: machineroom runs no service mesh, register typical services (no Kind)`);
  if (r.has('Proxy') && Object.keys(r.object('Proxy')!.obj).length > 0) throw badRequest('Invalid service: Proxy is not supported by machineroom (no service mesh)');
  const connect = r.object('Connect');
  if (connect?.has('SidecarService')) throw badRequest('Invalid SidecarService: Connect sidecars are not supported by machineroom (no service mesh)');
  for (const field of ['Namespace', 'Partition']) {
    const v = r.string(field);
    if (v && v.toLowerCase() !== 'default') throw badRequest(`Invalid service: ${field} ${JSON.stringify(v)} is a Consul Enterprise feature`);
  }
}

/** The service fields agent and catalog registrations share, the name read from `nameField`; validation is the caller's. */
export function decodeServiceFields(r: FieldReader, nameField: 'Name' | 'Service'): ServiceDef {
  const name = r.string(nameField) ?? '';
  return {
    ID: r.string('ID') || name,
    Name: name,
    Tags: r.strings('Tags') ?? [],
    Address: r.string('Address') ?? '',
    Port: r.int('Port') ?? 0,
    Meta: r.stringMap('Meta') ?? {},
    Weights: { Passing: 1, Warning: 1 },
    EnableTagOverride: r.bool('EnableTagOverride') ?? false,
    TaggedAddresses: decodeServiceTaggedAddresses(r),
  };
}

/** Decodes and validates a registration; its checks come back named and resolved. */
export function decodeServiceRegistration(body: unknown, opts: { scriptChecks: boolean; limits: CheckLimits }): { service: ServiceDef; checks: CheckDef[] } {
  const r = FieldReader.of(body, '');
  const service = decodeServiceFields(r, 'Name');
  const name = service.Name;
  const weights = r.object('Weights');
  const rawChecks: RawCheck[] = [];
  const single = r.object('Check');
  if (single) rawChecks.push(decodeCheck(single));
  for (const c of r.objects('Checks') ?? []) rawChecks.push(decodeCheck(c));

  if (name === '') throw badRequest('Missing service name');
  if (isAnyAddress(service.Address)) throw badRequest('Invalid service address');
  if (weights) {
    service.Weights = { Passing: weights.int('Passing') ?? 0, Warning: weights.int('Warning') ?? 0 };
    if (service.Weights.Passing <= 0) throw badRequest('Invalid Weights: Passing must be greater than 0');
    if (service.Weights.Warning < 0) throw badRequest('Invalid Weights: Warning must be greater or equal than 0');
  }
  const problem = metaProblem(service.Meta);
  if (problem) throw badRequest(`Invalid Service Meta: ${problem}`);
  rejectUnsupported(r);

  const present = rawChecks.filter((c) => !c.empty);
  const checks = present.map((raw, i) =>
    resolveCheck(raw, {
      scriptChecks: opts.scriptChecks,
      limits: opts.limits,
      defaultId: `service:${service.ID}${present.length > 1 ? `:${i + 1}` : ''}`,
      defaultName: `Service '${service.Name}' check`,
      serviceId: service.ID,
      statusMessage: "Status for checks must 'passing', 'warning', 'critical'",
    }),
  );
  return { service, checks };
}
