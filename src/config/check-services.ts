// Checks the schema cannot express: references between services and ports, cycles, mutually exclusive keys.

import type { ConfigNode, NodePos } from './config-node.js';
import { findEntry, findNode } from './config-node.js';
import { invalidConfig } from './config-error.js';
import { findDependencyCycle, listDependencies } from './dependency-graph.js';
import { parseDuration } from './duration.js';
import type { ConfigOptions, HealthOptions, ServiceOptions } from './schema.js';
import { CONFIG_DEFAULTS } from './defaults.js';
import { suggestName } from './suggest-name.js';

/** Throws ERR_CONFIG_INVALID for the first semantic problem, services in document order, cycles last. */
export function checkServices(config: ConfigOptions, root: ConfigNode): void {
  const resources = Object.keys(config.postgres ?? {});
  for (const name of resources) {
    if (config.services[name] !== undefined) throw invalidConfig(`postgres.${name}`, `"${name}" is also a service; resources and services share one namespace (both are services on the bus), rename one`, findEntry(findEntry(root, 'postgres')?.value, name)!.keyPos);
  }
  const names = [...Object.keys(config.services), ...resources];
  for (const name of Object.keys(config.services)) checkService(name, config.services[name]!, names, config, root);
  checkNoCycle(config, root);
}

function checkService(name: string, service: ServiceOptions, names: string[], config: ConfigOptions, root: ConfigNode): void {
  const node = findNode(root, ['services', name]);
  const path = `services.${name}`;
  if (service.port !== undefined && service.ports !== undefined) throw invalidConfig(path, 'set either port or ports, not both', laterKeyPos(node, 'port', 'ports'));
  if (service.health) checkHealth(service.health, service, path, findEntry(node, 'health')!.keyPos, findNode(node, ['health']));
  checkRestart(service, path, node);
  checkDependencies(name, service, names, config, node);
  checkRoutes(name, service, path, node);
}

/** The front door's own host: the dashboard and the control API answer there, so no route may claim it. */
const RESERVED_HOST = 'machineroom.localhost';

function checkRoutes(name: string, service: ServiceOptions, path: string, node: ConfigNode | undefined): void {
  const routes = findNode(node, ['routes']);
  (service.routes ?? []).forEach((route, i) => {
    (route.hosts ?? []).forEach((host, j) => {
      if (host.toLowerCase().replace(/\.$/, '') !== RESERVED_HOST) return;
      const hosts = routes?.kind === 'seq' ? findEntry(routes.items[i], 'hosts')?.value : undefined;
      const at = hosts?.kind === 'seq' ? hosts.items[j]?.pos : undefined;
      throw invalidConfig(`${path}.routes[${i}].hosts[${j}]`, `"${host}" is reserved: the front door serves the machineroom dashboard there; choose another host name (${name}.localhost already reaches this service)`, at ?? routes?.pos ?? node!.pos);
    });
  });
}

function checkHealth(health: HealthOptions, service: ServiceOptions, path: string, keyPos: NodePos, node: ConfigNode | undefined): void {
  const kinds = (['http', 'tcp', 'cmd'] as const).filter((kind) => health[kind] !== undefined);
  if (kinds.length !== 1) throw invalidConfig(`${path}.health`, `set exactly one of http, tcp, cmd${kinds.length > 1 ? ` (found ${kinds.join(', ')})` : ''}`, keyPos);
  const portNames = listPortNames(service);
  if (health.port !== undefined && !portNames.includes(health.port)) throw invalidConfig(`${path}.health.port`, describeUnknownPort(health.port, portNames), findNode(node, ['port'])!.pos);
  if (kinds[0] !== 'cmd' && portNames.length === 0) throw invalidConfig(`${path}.health`, `a ${kinds[0]} check needs a port; set port or ports on the service`, keyPos);
  for (const key of ['interval', 'timeout'] as const) {
    if (health[key] !== undefined && parseDuration(health[key]) === 0) throw invalidConfig(`${path}.health.${key}`, `expected a duration above 0, got "${health[key]}"`, findNode(node, [key])!.pos);
  }
}

function checkRestart(service: ServiceOptions, path: string, node: ConfigNode | undefined): void {
  if (typeof service.restart !== 'object') return;
  const backoff = parseDuration(service.restart.backoff ?? CONFIG_DEFAULTS.restartBackoff)!;
  const maxBackoff = parseDuration(service.restart.max_backoff ?? CONFIG_DEFAULTS.restartMaxBackoff)!;
  if (backoff <= maxBackoff) return;
  const culprit = service.restart.backoff !== undefined ? 'backoff' : 'max_backoff';
  const value = service.restart[culprit]!;
  throw invalidConfig(`${path}.restart.${culprit}`, `backoff must not exceed max_backoff, got "${value}"`, findNode(node, ['restart', culprit])!.pos);
}

function checkDependencies(name: string, service: ServiceOptions, names: string[], config: ConfigOptions, node: ConfigNode | undefined): void {
  const path = `services.${name}.depends_on`;
  for (const dependency of listDependencies(service.depends_on)) {
    const pos = locateDependency(node, dependency.service);
    if (!names.includes(dependency.service)) throw invalidConfig(path, describeUnknownService(dependency.service, names), pos);
    if (dependency.condition === 'completed' && config.postgres?.[dependency.service] !== undefined) throw invalidConfig(`${path}.${dependency.service}`, `condition "completed" never holds for the database resource ${dependency.service} (it keeps running); use "healthy"`, pos);
    if (dependency.condition === 'healthy' && config.services[dependency.service] !== undefined && config.services[dependency.service]!.health === undefined) {
      throw invalidConfig(`${path}.${dependency.service}`, `condition "healthy" needs a health check on ${dependency.service}; add services.${dependency.service}.health or use "started"`, pos);
    }
  }
}

function checkNoCycle(config: ConfigOptions, root: ConfigNode): void {
  const edgesOf = (name: string) => listDependencies(config.services[name]?.depends_on).map((edge) => edge.service);
  const cycle = findDependencyCycle(Object.keys(config.services), edgesOf);
  if (!cycle) return;
  const pos = locateDependency(findNode(root, ['services', cycle[0]!]), cycle[1]!);
  throw invalidConfig('services', `dependency cycle ${cycle.join(' -> ')}`, pos);
}

/** Where a service's depends_on names a target: the list item or the map key. */
function locateDependency(serviceNode: ConfigNode | undefined, target: string): NodePos {
  const entry = findEntry(serviceNode, 'depends_on')!;
  const node = entry.value;
  if (node.kind === 'seq') return node.items.find((item) => item.kind === 'scalar' && item.value === target)?.pos ?? node.pos;
  return findEntry(node, target)?.keyPos ?? node.pos;
}

/** The key written last of two (entries keep document order, and keys an override file adds come after). */
function laterKeyPos(node: ConfigNode | undefined, first: string, second: string): NodePos {
  const entries = node?.kind === 'map' ? node.entries : [];
  const later = entries.filter((entry) => entry.key === first || entry.key === second).at(-1)!;
  return later.keyPos;
}

function listPortNames(service: ServiceOptions): string[] {
  if (service.port !== undefined) return [CONFIG_DEFAULTS.portName];
  return Object.keys(service.ports ?? {});
}

function describeUnknownPort(port: string, portNames: string[]): string {
  if (portNames.length === 0) return `unknown port "${port}"; the service has no ports, set port or ports`;
  const suggestion = suggestName(port, portNames);
  return `unknown port "${port}"; ${suggestion !== undefined ? `did you mean "${suggestion}"?` : `ports are ${portNames.join(', ')}`}`;
}

function describeUnknownService(target: string, names: string[]): string {
  const suggestion = suggestName(target, names);
  return `unknown service "${target}"; ${suggestion !== undefined ? `did you mean "${suggestion}"?` : `services are ${names.join(', ')}`}`;
}
