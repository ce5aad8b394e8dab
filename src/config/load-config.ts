// loadConfig: find, read, interpolate, merge, validate and resolve the config files of a project.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigNode } from './config-node.js';
import { findEntry } from './config-node.js';
import { invalidConfig, labelFile } from './config-error.js';
import { checkServices } from './check-services.js';
import { decodeNode } from './decode-node.js';
import { listDependencies, orderByDependencies } from './dependency-graph.js';
import { scanDotenv } from './dotenv.js';
import { findConfigFiles } from './find-config-files.js';
import type { VariableLookup } from './interpolate.js';
import { interpolateTree } from './interpolate-tree.js';
import { mergeNodes } from './merge-nodes.js';
import { resolveApiPort, resolveBus, resolveFrontDoor, resolveMachineMode, resolveProjectName } from './resolve-project.js';
import { resolvePostgres } from './resolve-postgres.js';
import { resolveService } from './resolve-service.js';
import { ConfigSchema } from './schema.js';
import type { ConfigOptions } from './schema.js';
import { listActiveProfiles, selectActiveServices } from './select-profiles.js';
import type { ResolvedConfig, ResolvedService } from './types.js';

/** What loadConfig reads: explicit files (-f) or discovery from cwd, the environment, the active profiles. */
export interface LoadConfigOptions {
  /** Config files in override order, relative to cwd; empty or absent to find machineroom.yml in cwd or a parent. */
  files?: string[];
  cwd: string;
  /** The process environment: wins over .env for interpolation, MACHINEROOM_API_PORT and MACHINEROOM_PROFILES. */
  env: Record<string, string | undefined>;
  /** Profiles to activate (--profile), in addition to MACHINEROOM_PROFILES. */
  profiles?: string[];
}

/** Loads a project's config; throws ERR_CONFIG_NOT_FOUND or ERR_CONFIG_INVALID with file:line:col. */
export async function loadConfig(opts: LoadConfigOptions): Promise<ResolvedConfig> {
  const cwd = path.resolve(opts.cwd);
  const files = await findConfigFiles(opts.files ?? [], cwd);
  const projectDir = path.dirname(files[0]!);
  const variables = await readVariables(projectDir, cwd, opts.env);
  const lookup: VariableLookup = (name) => variables.get(name);
  const root = await readMergedTree(files, cwd, lookup);
  const options = decodeNode(root, ConfigSchema, '') as ConfigOptions;
  checkServices(options, root);
  const active = selectActiveServices(options.services, listActiveProfiles(opts.profiles, lookup('MACHINEROOM_PROFILES')));
  const services: Record<string, ResolvedService> = {};
  // Database resources are services too (always active: a profile's service may depend on them).
  const resources = Object.keys(options.postgres ?? {});
  for (const name of resources) services[name] = resolvePostgres(options.postgres![name]!, resourceContext(root, name));
  for (const name of active) services[name] = await resolveService(options.services[name]!, serviceContext(root, name, cwd, lookup));
  const databases = resources.flatMap((name) => services[name]!.postgres!.databases.map((db) => db.name));
  return {
    name: resolveProjectName(options.name, projectDir),
    projectDir,
    files,
    machineMode: resolveMachineMode(options.machines),
    apiPort: resolveApiPort(options.api_port, lookup('MACHINEROOM_API_PORT')),
    bus: resolveBus(options.bus, lookup('MACHINEROOM_DNS_PORT')),
    frontDoor: resolveFrontDoor(options.front_door, lookup('MACHINEROOM_HTTP_PORT'), lookup('MACHINEROOM_HTTPS_PORT')),
    kv: Object.fromEntries(Object.entries(options.kv ?? {}).map(([k, v]) => [k, String(v)])),
    // Database passwords published in KV are secrets whatever the config says.
    secrets: [...new Set([...(options.secrets ?? []), ...databases.map((db) => `postgres/${db}/password`)])],
    services,
    order: orderByDependencies([...resources, ...active], (name) => listDependencies(options.services[name]?.depends_on).map((edge) => edge.service)),
  };
}

/** .env in the project directory, overridden by the process environment (as in Compose). */
async function readVariables(projectDir: string, cwd: string, env: Record<string, string | undefined>): Promise<Map<string, string>> {
  const variables = new Map<string, string>(Object.entries(await readDotenvFile(path.join(projectDir, '.env'), cwd)));
  for (const [key, value] of Object.entries(env)) if (value !== undefined) variables.set(key, value);
  return variables;
}

async function readDotenvFile(file: string, cwd: string): Promise<Record<string, string>> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) return {};
  const scan = scanDotenv(text);
  if (!scan.problem) return scan.values;
  const label = labelFile(cwd, file);
  throw invalidConfig(label, scan.problem.message, { file, label, line: scan.problem.line, col: scan.problem.col });
}

/** Parses and interpolates each file, then overlays them in order; an empty file contributes nothing. */
async function readMergedTree(files: string[], cwd: string, lookup: VariableLookup): Promise<ConfigNode> {
  let merged: ConfigNode | undefined;
  for (const file of files) {
    const label = labelFile(cwd, file);
    // The YAML parser loads on first use: the daemon imports this domain for its types and helpers, never parses.
    const { parseConfigYaml } = await import('./parse-yaml.js');
    const parsed = parseConfigYaml(await readFile(file, 'utf8'), { file, label });
    if (parsed === undefined) continue;
    const tree = interpolateTree(parsed, lookup);
    merged = merged === undefined ? tree : mergeNodes(merged, tree);
  }
  return merged ?? { kind: 'map', pos: { file: files[0]!, label: labelFile(cwd, files[0]!), line: 1, col: 1 }, entries: [] };
}

function resourceContext(root: ConfigNode, name: string) {
  const entry = findEntry(findEntry(root, 'postgres')?.value, name)!;
  return { name, node: entry.value, keyPos: entry.keyPos };
}

function serviceContext(root: ConfigNode, name: string, cwd: string, lookup: VariableLookup) {
  const entry = findEntry(findEntry(root, 'services')?.value, name)!;
  return { name, node: entry.value, keyPos: entry.keyPos, cwd, lookup };
}
