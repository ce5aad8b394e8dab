// Project-wide settings: the project name, the machine mode and the API port.

import path from 'node:path';
import { invalidConfig } from './config-error.js';
import { CONFIG_DEFAULTS } from './defaults.js';
import type { MachineMode, ResolvedBus, ResolvedFrontDoor } from './types.js';
import { parseDuration } from './duration.js';
import type { ConfigOptions } from './schema.js';

/** `name:` if given, else the project directory's name lower-cased, other characters turned into "-". */
export function resolveProjectName(name: string | undefined, projectDir: string): string {
  if (name !== undefined) return name;
  const derived = path.basename(projectDir).toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+/, '');
  return derived === '' ? 'machineroom' : derived;
}

/** auto means loopback addresses on Linux (127.0.0.0/8 is all routable there) and ports elsewhere. */
export function resolveMachineMode(machines: 'auto' | MachineMode | undefined, platform: NodeJS.Platform = process.platform): MachineMode {
  const mode = machines ?? CONFIG_DEFAULTS.machines;
  if (mode !== 'auto') return mode;
  return platform === 'linux' ? 'loopback' : 'port';
}

/** MACHINEROOM_API_PORT wins over api_port and may be 0 (any free port); the file may not say 0. */
export function resolveApiPort(fromFile: number | undefined, fromEnv: string | undefined): number {
  return resolvePortSetting(fromFile, fromEnv, CONFIG_DEFAULTS.apiPort, 'MACHINEROOM_API_PORT');
}

/** A port setting the environment may override (0 there: any free port). */
export function resolvePortSetting(fromFile: number | undefined, fromEnv: string | undefined, fallback: number, envName: string): number {
  if (fromEnv === undefined || fromEnv.trim() === '') return fromFile ?? fallback;
  const text = fromEnv.trim();
  const port = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) throw invalidConfig(envName, `expected a port 0-65535 (0 picks a free one), got ${JSON.stringify(fromEnv)}`, 'environment');
  return port;
}

/** The front door's settings with defaults; MACHINEROOM_HTTP_PORT and MACHINEROOM_HTTPS_PORT override the ports. */
export function resolveFrontDoor(fd: ConfigOptions['front_door'], httpPortEnv: string | undefined, httpsPortEnv?: string): ResolvedFrontDoor {
  return {
    httpPort: resolvePortSetting(fd?.http_port, httpPortEnv, CONFIG_DEFAULTS.httpPort, 'MACHINEROOM_HTTP_PORT'),
    httpsPort: resolvePortSetting(fd?.https_port, httpsPortEnv, CONFIG_DEFAULTS.httpsPort, 'MACHINEROOM_HTTPS_PORT'),
    workers: fd?.workers ?? CONFIG_DEFAULTS.frontDoorWorkers,
    balancer: fd?.balancer ?? CONFIG_DEFAULTS.balancer,
    drainTimeout: parseDuration(fd?.drain_timeout ?? CONFIG_DEFAULTS.drainTimeout) ?? 30_000,
    accessLog: fd?.access_log ?? false,
  };
}

/** The bus settings with defaults; MACHINEROOM_DNS_PORT overrides dns_port. */
export function resolveBus(bus: ConfigOptions['bus'], dnsPortEnv: string | undefined): ResolvedBus {
  return {
    datacenter: bus?.datacenter ?? CONFIG_DEFAULTS.datacenter,
    node: bus?.node ?? CONFIG_DEFAULTS.nodeName,
    domain: (bus?.domain ?? CONFIG_DEFAULTS.domain).replace(/\.$/, ''),
    dnsPort: resolvePortSetting(bus?.dns_port, dnsPortEnv, CONFIG_DEFAULTS.dnsPort, 'MACHINEROOM_DNS_PORT'),
    recursors: bus?.recursors ?? [],
    enableScriptChecks: bus?.enable_script_checks ?? false,
  };
}
