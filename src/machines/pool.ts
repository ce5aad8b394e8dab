// Leases machine addresses (loopback) or ports (port mode) from the machine-wide registry, so projects never share one.
import { createServer } from 'node:net';
import { MachineroomError } from '../errors/index.js';
import { withRegistry } from '../state/index.js';
import type { MachineMode, ResolvedPort } from '../config/index.js';
import type { Machine } from './machine.js';

/** Hands out and takes back machines for one project. */
export interface MachinePool {
  readonly mode: MachineMode;
  lease(name: string, ports: ResolvedPort[]): Promise<Machine>;
  release(machine: Machine): Promise<void>;
  close(): Promise<void>;
}

/** Options of a machine pool. */
export interface MachinePoolOptions {
  projectId: string;
  mode: MachineMode;
  registryDir?: string;
  /** Loopback block: addresses 127.<block>.x.y. */
  loopbackBlock?: number;
  /** Port mode: the range ports are leased from (kept below the usual ephemeral range 32768-60999). */
  portRange?: [number, number];
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Creates a pool leasing from the machine-wide registry. */
export function createMachinePool(opts: MachinePoolOptions): MachinePool {
  const block = opts.loopbackBlock ?? 77;
  const [portLo, portHi] = opts.portRange ?? [20000, 32767];
  const held = new Set<string>();
  let nextPort = portLo + Math.floor(Math.random() * (portHi - portLo));

  async function leaseLoopback(name: string, ports: ResolvedPort[]): Promise<Machine> {
    const address = await withRegistry((data) => {
      for (let hi = 0; hi < 256; hi++) {
        for (let lo = 2; lo < 255; lo++) {
          const addr = `127.${block}.${hi}.${lo}`;
          if (!data.leases[addr]) {
            data.leases[addr] = { projectId: opts.projectId, machine: name };
            return addr;
          }
        }
      }
      return undefined;
    }, opts.registryDir);
    if (!address) throw new MachineroomError('ERR_NO_ADDRESS', `no free machine address left in 127.${block}.0.0/16; stop other projects or scale down`);
    held.add(address);
    return { name, mode: 'loopback', address, ports: Object.fromEntries(ports.map((p) => [p.name, p.port])), leaseKeys: [address] };
  }

  async function leasePort(name: string): Promise<number> {
    for (let tries = 0; tries < portHi - portLo; tries++) {
      const port = nextPort;
      nextPort = nextPort >= portHi ? portLo : nextPort + 1;
      const key = `127.0.0.1:${port}`;
      const got = await withRegistry((data) => {
        if (data.leases[key]) return false;
        data.leases[key] = { projectId: opts.projectId, machine: name };
        return true;
      }, opts.registryDir);
      if (!got) continue;
      if (await canBind(port, '127.0.0.1')) {
        held.add(key);
        return port;
      }
      await withRegistry((data) => void delete data.leases[key], opts.registryDir);
    }
    throw new MachineroomError('ERR_NO_ADDRESS', `no free port left in ${portLo}-${portHi} for machine ${name}`);
  }

  async function leaseByPort(name: string, ports: ResolvedPort[]): Promise<Machine> {
    const assigned: Record<string, number> = {};
    for (const p of ports) assigned[p.name] = await leasePort(name);
    return { name, mode: 'port', address: '127.0.0.1', ports: assigned, leaseKeys: Object.values(assigned).map((p) => `127.0.0.1:${p}`) };
  }

  return {
    mode: opts.mode,
    lease: (name, ports) => (opts.mode === 'loopback' ? leaseLoopback(name, ports) : leaseByPort(name, ports)),
    async release(machine) {
      const keys = machine.leaseKeys.filter((k) => held.has(k));
      if (keys.length === 0) return;
      for (const k of keys) held.delete(k);
      await withRegistry((data) => {
        for (const k of keys) if (data.leases[k]?.projectId === opts.projectId) delete data.leases[k];
      }, opts.registryDir);
    },
    async close() {
      if (held.size === 0) return;
      const keys = [...held];
      held.clear();
      await withRegistry((data) => {
        for (const k of keys) if (data.leases[k]?.projectId === opts.projectId) delete data.leases[k];
      }, opts.registryDir);
    },
  };
}
