// ServiceOptions → ResolvedService: defaults, absolute paths, argv commands, milliseconds, strings.

import path from 'node:path';
import type { ConfigNode, NodePos } from './config-node.js';
import { findNode, toSourcePos } from './config-node.js';
import { CONFIG_DEFAULTS as D } from './defaults.js';
import { listDependencies } from './dependency-graph.js';
import { parseDuration } from './duration.js';
import type { VariableLookup } from './interpolate.js';
import { resolveEnv, stringifyValue } from './resolve-env.js';
import type { BuildOptions, HealthOptions, RestartOptions, ServiceOptions } from './schema.js';
import type { Millis, ResolvedBuild, ResolvedHealth, ResolvedPort, ResolvedService } from './types.js';

/** Everything resolveService needs besides the options. */
export interface ServiceContext {
  name: string;
  /** The service's node (merged across files), for positions and for paths relative to where they were written. */
  node: ConfigNode | undefined;
  /** Where the service key was first declared. */
  keyPos: NodePos;
  /** The user's cwd, for file names in messages. */
  cwd: string;
  lookup: VariableLookup;
}

/** Applies defaults and reads env files; relative paths resolve against the file that wrote them. */
export async function resolveService(options: ServiceOptions, ctx: ServiceContext): Promise<ResolvedService> {
  const cwd = resolvePath(options.cwd, findNode(ctx.node, ['cwd']), path.dirname(ctx.keyPos.file));
  const { env, envFiles } = await resolveEnv(options, { node: ctx.node, path: `services.${ctx.name}`, cwd: ctx.cwd, lookup: ctx.lookup });
  const ports = resolvePorts(options);
  const health = options.health ? resolveHealth(options.health, ports) : undefined;
  const build = options.build !== undefined ? resolveBuild(options.build, findNode(ctx.node, ['build']), cwd) : undefined;
  return {
    name: ctx.name,
    command: toArgv(options.command),
    cwd,
    env,
    envFiles,
    ...(build ? { build } : {}),
    replicas: options.replicas ?? D.replicas,
    ports,
    ...(health ? { health } : {}),
    dependsOn: listDependencies(options.depends_on),
    restart: resolveRestart(options.restart),
    stopSignal: toSignal(options.stop_signal ?? D.stopSignal),
    stopGrace: toMillis(options.stop_grace, D.stopGrace),
    tags: options.tags ?? [],
    ...(options.access_log !== undefined ? { accessLog: options.access_log } : {}),
    protocol: options.protocol ?? 'http',
    routes: (options.routes ?? []).map((r) => ({ hosts: r.hosts ?? [], paths: r.paths ?? [], strip: r.strip ?? false })),
    meta: resolveMeta(options.meta, findNode(ctx.node, ['meta'])),
    profiles: options.profiles ?? [],
    source: toSourcePos(ctx.keyPos),
  };
}

/** A string command runs through the shell; a list is the argv itself. */
function toArgv(command: string | string[]): string[] {
  return typeof command === 'string' ? ['/bin/sh', '-c', command] : [...command];
}

function resolvePath(value: string | undefined, node: ConfigNode | undefined, fallback: string): string {
  if (value === undefined || node === undefined) return fallback;
  return path.resolve(path.dirname(node.pos.file), value);
}

function resolvePorts(options: ServiceOptions): ResolvedPort[] {
  if (options.port !== undefined) return [{ name: D.portName, port: options.port }];
  return Object.entries(options.ports ?? {}).map(([name, port]) => ({ name, port }));
}

function resolveHealth(health: HealthOptions, ports: ResolvedPort[]): ResolvedHealth {
  const kind = health.http !== undefined ? 'http' : health.tcp !== undefined ? 'tcp' : 'cmd';
  const port = health.port ?? (kind === 'cmd' ? undefined : ports[0]?.name);
  return {
    kind,
    ...(health.http !== undefined ? { path: health.http } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(health.cmd !== undefined ? { command: toArgv(health.cmd) } : {}),
    interval: toMillis(health.interval, D.healthInterval),
    timeout: toMillis(health.timeout, D.healthTimeout),
    startPeriod: toMillis(health.start_period, D.healthStartPeriod),
    successThreshold: health.success_threshold ?? D.healthSuccessThreshold,
    failureThreshold: health.failure_threshold ?? D.healthFailureThreshold,
    restart: health.restart ?? D.healthRestart,
  };
}

/** build.cwd is relative to its file (default: the service cwd); outputs are relative to the build cwd. */
function resolveBuild(build: BuildOptions, node: ConfigNode | undefined, serviceCwd: string): ResolvedBuild {
  if (typeof build === 'string') return { command: toArgv(build), cwd: serviceCwd, outputs: [] };
  const cwd = resolvePath(build.cwd, findNode(node, ['cwd']), serviceCwd);
  return { command: toArgv(build.command), cwd, outputs: (build.outputs ?? []).map((output) => path.resolve(cwd, output)) };
}

function resolveRestart(restart: RestartOptions | undefined): ResolvedService['restart'] {
  const options = typeof restart === 'string' ? { policy: restart } : restart ?? {};
  return {
    policy: options.policy ?? D.restartPolicy,
    backoff: toMillis(options.backoff, D.restartBackoff),
    maxBackoff: toMillis(options.max_backoff, D.restartMaxBackoff),
  };
}

function resolveMeta(meta: Record<string, string | number | boolean> | undefined, node: ConfigNode | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(meta ?? {}).map(([key, value]) => [key, stringifyValue(value, findNode(node, [key]))]));
}

/** "TERM" and "SIGTERM" both mean SIGTERM. */
function toSignal(name: string): NodeJS.Signals {
  return (name.startsWith('SIG') ? name : `SIG${name}`) as NodeJS.Signals;
}

/** Durations were validated already, so parsing cannot fail here. */
function toMillis(value: string | undefined, fallback: string): Millis {
  return parseDuration(value ?? fallback)!;
}
