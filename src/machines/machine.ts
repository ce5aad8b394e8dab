// A simulated machine: a name and an address of its own, with the ports its instance listens on.
import type { MachineMode, ResolvedPort } from '../config/index.js';

/** One instance's machine. In loopback mode ports are the configured ones; in port mode each is a leased port on 127.0.0.1. */
export interface Machine {
  name: string;
  mode: MachineMode;
  address: string;
  /** Named port → the port the instance actually listens on. */
  ports: Record<string, number>;
  /** Registry keys this machine holds. */
  leaseKeys: string[];
}

/** The primary port of a machine (the first configured one), if the service has ports. */
export function primaryPort(machine: Machine, ports: ResolvedPort[]): number | undefined {
  const first = ports[0];
  return first ? machine.ports[first.name] : undefined;
}

/** The default machine mode for this platform: loopback on Linux (every 127.x address is local), port elsewhere. */
export function defaultMachineMode(platform: NodeJS.Platform = process.platform): MachineMode {
  return platform === 'linux' ? 'loopback' : 'port';
}
