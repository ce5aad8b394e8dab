// The config domain: load and validate machineroom.yml into the resolved config the daemon runs.

import type { LoadConfigOptions } from './load-config.js';
import type { ResolvedConfig } from './types.js';
export type { LoadConfigOptions } from './load-config.js';

// The loader, the YAML parser and the schema (TypeBox: ~200 modules) load on first use, so the daemon and the light
// CLI verbs, which import this domain for its types, durations and defaults, start without them.

/** Loads a project's config; throws ERR_CONFIG_NOT_FOUND or ERR_CONFIG_INVALID with file:line:col. */
export async function loadConfig(opts: LoadConfigOptions): Promise<ResolvedConfig> {
  return (await import('./load-config.js')).loadConfig(opts);
}

/** The published JSON Schema of machineroom.yml (draft-07). */
export async function loadConfigJsonSchema(): Promise<Record<string, unknown>> {
  return (await import('./schema.js')).configJsonSchema();
}
export type { BuildOptions, ConfigOptions, DependsOnOptions, EnvOptions, HealthOptions, PostgresOptions, RestartOptions, ServiceOptions } from './schema.js';
export { formatDuration, parseDuration } from './duration.js';
export { parseDotenv, scanDotenv } from './dotenv.js';
export type { DotenvProblem, DotenvScan } from './dotenv.js';
export { interpolateText } from './interpolate.js';
export type { InterpolationResult, VariableLookup } from './interpolate.js';
export { CONFIG_DEFAULTS } from './defaults.js';
export { CONFIG_FILE_NAMES } from './find-config-files.js';
export type {
  DependsCondition,
  MachineMode,
  Millis,
  ResolvedBuild,
  ResolvedConfig,
  ResolvedDatabase,
  ResolvedHealth,
  ResolvedPostgres,
  ResolvedPort,
  ResolvedService,
  RestartPolicy,
  ResolvedBus,
  ResolvedFrontDoor,
  SourcePos,
} from './types.js';
