// The environment every instance gets: the daemon's, the service's, then HOST, PORT and the MR_* identity variables.
import type { ResolvedService } from '../config/index.js';
import type { Machine } from '../machines/index.js';

/** Identity of an instance, as handed to it in MR_* variables. */
export interface InstanceIdentity {
  project: string;
  projectId: string;
  service: string;
  index: number;
  instanceId: string;
}

/** Variables of the daemon's own environment that must not leak into instances. */
const PRIVATE = /^(MACHINEROOM_|MR_|npm_)/;

/** The name of a port's variable: PORT_HTTP for "http", PORT_ADMIN_API for "admin-api". */
export function portVarName(name: string): string {
  return `PORT_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Builds an instance's environment. */
export function instanceEnv(
  spec: ResolvedService,
  machine: Machine,
  id: InstanceIdentity,
  base: NodeJS.ProcessEnv = process.env,
  bus: Record<string, string> = {},
  dependencies: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !PRIVATE.test(k)) env[k] = v;
  // How to reach the bus (CONSUL_HTTP_ADDR…), so any Consul client works as is; the service's own env may override it.
  Object.assign(env, bus);
  // Where the services it depends on are reached (<NAME>_HOST/_PORT/_URL); its own env may override them.
  Object.assign(env, dependencies);
  Object.assign(env, spec.env);
  env.HOST = machine.address;
  const first = spec.ports[0];
  if (first) env.PORT = String(machine.ports[first.name]);
  // Named ports get PORT_<NAME>; the single unnamed `port:` (named "default") is just $PORT.
  for (const p of spec.ports) if (p.name !== 'default') env[portVarName(p.name)] = String(machine.ports[p.name]);
  env.MR_PROJECT = id.project;
  env.MR_PROJECT_ID = id.projectId;
  env.MR_SERVICE = id.service;
  env.MR_INSTANCE = String(id.index);
  env.MR_INSTANCE_ID = id.instanceId;
  env.MR_MACHINE = machine.name;
  env.MR_ADDRESS = machine.address;
  return env;
}
