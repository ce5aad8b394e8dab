// Every service with a port gets a stable address of its own, served by the front door (the analogue of a Kubernetes
// ClusterIP): a 127.x address on the service's port in loopback mode, a leased port on 127.0.0.1 in port mode. Services
// that depend on it find it in <NAME>_HOST, <NAME>_PORT and <NAME>_URL.
import type { ResolvedConfig, ResolvedService } from '../config/index.js';
import type { Machine, MachinePool } from '../machines/index.js';
import type { ServedFrontDoor } from './start-front-door.js';

/** Where a service is reached. */
export interface ServiceAddress {
  service: string;
  host: string;
  port: number;
  protocol: 'http' | 'tcp';
  url: string;
}

/** The project's service addresses, kept in step with the config. */
export interface ServiceAddresses {
  /** Leases and serves addresses for new services, drops those of removed ones (before instances start). */
  sync(config: ResolvedConfig): Promise<string[]>;
  get(service: string): ServiceAddress | undefined;
  list(): ServiceAddress[];
  /** <NAME>_HOST/_PORT/_URL for every dependency of a service that has an address. */
  envFor(spec: ResolvedService): Record<string, string>;
  close(): Promise<void>;
}

/** The variable prefix for a service: upper-cased, anything not a letter or digit as "_". */
export function envPrefix(service: string): string {
  return service.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

interface Held {
  address: ServiceAddress;
  machine: Machine;
  /** What it was made for, to redo it when the port or protocol changes. */
  key: string;
}

/** Creates the set; nothing is leased until sync. */
export function createServiceAddresses(opts: { pool: MachinePool; front: ServedFrontDoor; onError?: (message: string) => void }): ServiceAddresses {
  const held = new Map<string, Held>();

  const drop = async (name: string): Promise<void> => {
    const h = held.get(name);
    if (!h) return;
    held.delete(name);
    await opts.front.removeServiceAddress(name);
    await opts.pool.release(h.machine);
  };

  return {
    async sync(config) {
      const problems: string[] = [];
      for (const name of [...held.keys()]) if (!config.services[name]) await drop(name);
      for (const name of [...config.order].sort()) {
        const spec = config.services[name]!;
        const primary = spec.ports[0];
        if (!primary) {
          await drop(name);
          continue;
        }
        const key = `${primary.port}/${spec.protocol}`;
        if (held.get(name)?.key === key) continue;
        await drop(name);
        const machine = await opts.pool.lease(`${name}.service`, [primary]);
        const port = machine.ports[primary.name]!;
        try {
          await opts.front.addServiceAddress(name, machine.address, port, spec.protocol);
        } catch (err) {
          await opts.pool.release(machine);
          const message = `service ${name}: its service address ${machine.address}:${port} could not be served: ${err instanceof Error ? err.message : String(err)}`;
          problems.push(message);
          opts.onError?.(message);
          continue;
        }
        const scheme = spec.protocol === 'http' ? 'http' : 'tcp';
        held.set(name, { machine, key, address: { service: name, host: machine.address, port, protocol: spec.protocol, url: `${scheme}://${machine.address}:${port}` } });
      }
      return problems;
    },
    get: (service) => held.get(service)?.address,
    list: () => [...held.values()].map((h) => h.address).sort((a, b) => (a.service < b.service ? -1 : 1)),
    envFor(spec) {
      const env: Record<string, string> = {};
      for (const d of spec.dependsOn) {
        const a = held.get(d.service)?.address;
        if (!a) continue;
        const p = envPrefix(d.service);
        env[`${p}_HOST`] = a.host;
        env[`${p}_PORT`] = String(a.port);
        env[`${p}_URL`] = a.url;
      }
      return env;
    },
    async close() {
      for (const name of [...held.keys()]) await drop(name);
    },
  };
}
