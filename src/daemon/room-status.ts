// RoomStatus as the control API, `ps --json` and the dashboard see it: the supervisor's instances and services, with
// each instance's bus checks, and each service's kind, front-door URLs, service address and (for a database resource)
// its databases' URLs without passwords.
import type { BusStore, HealthCheck } from '../bus/index.js';
import type { ResolvedConfig, ResolvedService } from '../config/index.js';
import type { DaemonInfo, InstanceCheck, InstanceStatus, PostgresStatus, RoomStatus, ServiceStatus } from '../client/index.js';
import type { Supervisor } from '../supervisor/index.js';
import type { ServiceAddresses } from './service-addresses.js';
import type { PostgresResources } from './postgres-resources.js';

/** What the status is made of. */
export interface RoomStatusDeps {
  info: DaemonInfo;
  supervisor: Supervisor;
  store: BusStore;
  addresses: Pick<ServiceAddresses, 'get'>;
  databases: Pick<PostgresResources, 'run'>;
  /** The front door's HTTP port. */
  frontDoorPort: number;
}

/** The status, following the applied config. */
export interface RoomStatusView {
  setConfig(config: ResolvedConfig): void;
  status(): Promise<RoomStatus>;
  /** Stops following the bus; safe to call twice. */
  close(): void;
}

/** The front-door URLs of a service: its own host name, then each configured route (host-less routes on localhost). */
export function frontDoorUrls(spec: ResolvedService, port: number): string[] {
  if (spec.postgres || spec.protocol !== 'http' || spec.ports.length === 0) return [];
  const urls = [`http://${spec.name}.localhost:${port}/`];
  for (const route of spec.routes) {
    const hosts = route.hosts.length ? route.hosts.map((h) => h.toLowerCase()) : ['localhost'];
    const paths = route.paths.length ? route.paths : ['/'];
    for (const host of hosts) for (const path of paths) urls.push(`http://${host}:${port}${path}`);
  }
  return [...new Set(urls)];
}

/** postgres://user@host:port/db: a database URL with its password taken out. */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1@');
  }
}

function checkOf(c: HealthCheck, updatedAt: number | undefined): InstanceCheck {
  return { id: c.CheckID, name: c.Name, kind: c.Type || 'check', status: c.Status, output: c.Output, ...(updatedAt !== undefined ? { updatedAt } : {}) };
}

/** Creates the status view; it notes when each check last changed from the bus's change stream. */
export function createRoomStatus(deps: RoomStatusDeps): RoomStatusView {
  let config: ResolvedConfig | undefined;
  const changedAt = new Map<string, number>();
  const unsubscribe = deps.store.subscribe((c) => {
    if (c.kind !== 'check') return;
    if (c.op === 'delete') changedAt.delete(c.check.CheckID);
    else changedAt.set(c.check.CheckID, Date.now());
  });

  /** Every check of an instance: those of its registrations (alpha.1, alpha.1:<port>) and its machine's node checks. */
  const checksOf = (i: InstanceStatus, all: HealthCheck[]): InstanceCheck[] =>
    all
      .filter((c) => c.ServiceID === i.name || c.ServiceID.startsWith(`${i.name}:`) || (c.ServiceID === '' && i.machine !== undefined && c.Node === i.machine))
      .map((c) => checkOf(c, changedAt.get(c.CheckID)));

  const postgresOf = async (name: string): Promise<PostgresStatus | undefined> => {
    try {
      const info = await deps.databases.run({ name, action: 'info' }, deps.supervisor);
      const address = deps.addresses.get(name);
      return {
        engine: info.engine,
        databases: info.databases.map((db) => ({
          name: db.name,
          url: db.url ? withoutPassword(db.url) : address ? `postgres://${encodeURIComponent(db.user)}@${address.host}:${address.port}/${encodeURIComponent(db.name)}` : '',
        })),
      };
    } catch {
      return undefined; // not known to the resources yet (the config is being applied)
    }
  };

  const serviceOf = async (s: ServiceStatus): Promise<ServiceStatus> => {
    const spec = config?.services[s.name];
    const address = deps.addresses.get(s.name);
    const out: ServiceStatus = { ...s, ...(address ? { address: address.url } : {}) };
    if (!spec) return out;
    out.kind = spec.postgres ? 'postgres' : 'service';
    const urls = frontDoorUrls(spec, deps.frontDoorPort);
    if (urls.length) out.urls = urls;
    if (spec.postgres) {
      const pg = await postgresOf(s.name);
      if (pg) out.postgres = pg;
    }
    return out;
  };

  return {
    setConfig(c) {
      config = c;
    },
    async status() {
      const all = deps.store.checks();
      const instances = deps.supervisor.status().map((i) => {
        const checks = checksOf(i, all);
        return checks.length ? { ...i, checks } : i;
      });
      return { info: deps.info, services: await Promise.all(deps.supervisor.services().map(serviceOf)), instances };
    },
    close: unsubscribe,
  };
}
