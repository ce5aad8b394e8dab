// Test support: the Consul API over a real bus (store, durable KV/sessions/registrations, health checker) served by a
// real node http server on 127.0.0.1:0, with the `consul` npm client pointed at it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Consul from 'consul';
import { createBusStore, createIndexClock, createConsulApi, openBusData } from '../../src/bus/index.js';
import type { BusStore, BusData, ConsulApi, CheckLimits } from '../../src/bus/index.js';
import { createHealthChecker } from '../../src/health/index.js';
import type { HealthChecker } from '../../src/health/index.js';
import { serveHandler } from '../../src/http/index.js';

/** A running API. */
export interface ApiUnderTest {
  port: number;
  base: string;
  dir: string;
  consul: Consul;
  store: BusStore;
  data: BusData;
  checker: HealthChecker;
  api: ConsulApi;
  /** Stops the server and the bus; keeps the data directory unless `removeDir`. */
  close(opts?: { removeDir?: boolean }): Promise<void>;
}

/** Starts the API over a fresh (or the given) data directory. */
export async function startApi(opts: { dir?: string; scriptChecks?: boolean; checkLimits?: Partial<CheckLimits> } = {}): Promise<ApiUnderTest> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'machineroom-consul-api-')));
  const clock = createIndexClock();
  const store = createBusStore({ nodeName: 'node1', nodeAddress: '127.0.0.1', clock });
  const data = await openBusData({ dir, clock, store });
  const checker = createHealthChecker(store);
  const api = createConsulApi({
    store,
    kv: data.kv,
    sessions: data.sessions,
    registrations: data.registrations,
    checker,
    agent: { nodeName: 'node1', datacenter: 'dc1', address: '127.0.0.1', version: '1.17.0' },
    enableScriptChecks: opts.scriptChecks ?? false,
    checkLimits: opts.checkLimits ?? { minIntervalMs: 50, minDeregisterCriticalAfterMs: 100 },
  });
  await api.restore();
  const server = createServer();
  serveHandler(server, api);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const consul = new Consul({ host: '127.0.0.1', port });
  let closed = false;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    dir,
    consul,
    store,
    data,
    checker,
    api,
    async close(closeOpts = {}) {
      if (closed) return;
      closed = true;
      consul.destroy();
      api.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      checker.close();
      await data.close();
      if (closeOpts.removeDir ?? !opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
