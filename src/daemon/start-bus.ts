// The service bus, composed: index clock, catalog store, durable KV/sessions/registrations, health checker, the
// Consul-compatible HTTP API and DNS. The daemon serves it beside its control API; `machineroom agent` serves it alone.
import { mkdirSync } from 'node:fs';
import { createBusStore, createIndexClock, openBusData, createConsulApi } from '../bus/index.js';
import type { BusData, BusStore } from '../bus/index.js';
import { createHealthChecker } from '../health/index.js';
import type { HealthChecker } from '../health/index.js';
import { createDnsServer } from '../dns/index.js';
import type { DnsServer } from '../dns/index.js';
import type { ResolvedBus } from '../config/index.js';
import type { Handler } from '../http/index.js';
import { bindPort } from './listen.js';
import type { RegisteredProject } from '../state/index.js';

/** The Consul version agent/self reports (clients parse it as a Consul version); machineroom's own is in the control API. */
export const CONSUL_COMPAT_VERSION = '1.18.0';

/** A running bus. */
export interface Bus {
  readonly store: BusStore;
  readonly checker: HealthChecker;
  readonly data: BusData;
  readonly dns: DnsServer;
  /** The Consul-compatible HTTP API (`/v1/...`). */
  readonly consul: Handler;
  close(): Promise<void>;
}

/** Starts the bus: its data in `dataDir`, DNS on the preferred port (moved past other projects' ports). */
export async function startBus(opts: {
  settings: ResolvedBus;
  dataDir: string;
  address?: string;
  projectId: string;
  entry: Omit<RegisteredProject, 'ports'>;
  registryDir?: string;
}): Promise<Bus> {
  const clock = createIndexClock();
  const store = createBusStore({ nodeName: opts.settings.node, nodeAddress: opts.address ?? '127.0.0.1', datacenter: opts.settings.datacenter, clock });
  mkdirSync(opts.dataDir, { recursive: true });
  const data = await openBusData({ dir: opts.dataDir, clock, store });
  const checker = createHealthChecker(store);
  const api = createConsulApi({
    store,
    kv: data.kv,
    sessions: data.sessions,
    registrations: data.registrations,
    checker,
    agent: { nodeName: opts.settings.node, datacenter: opts.settings.datacenter, address: opts.address ?? '127.0.0.1', version: CONSUL_COMPAT_VERSION },
    enableScriptChecks: opts.settings.enableScriptChecks,
  });
  let dns: DnsServer | undefined;
  try {
    await api.restore();
    dns = await bindPort({
      role: 'dns',
      preferred: opts.settings.dnsPort,
      projectId: opts.projectId,
      entry: opts.entry,
      setting: 'bus: { dns_port: } in machineroom.yml or MACHINEROOM_DNS_PORT=<port>',
      attempt: (port) => createDnsServer({ store, port, domain: opts.settings.domain, recursors: opts.settings.recursors }),
      portOf: (d) => d.port,
      ...(opts.registryDir ? { registryDir: opts.registryDir } : {}),
    });
  } catch (err) {
    api.close();
    checker.close();
    await data.close();
    throw err;
  }
  const server = dns;
  let closed: Promise<void> | undefined;
  return {
    store,
    checker,
    data,
    dns: server,
    consul: api,
    close() {
      closed ??= (async () => {
        await server.close();
        api.close();
        checker.close();
        await data.close();
      })();
      return closed;
    },
  };
}
