// The config domain: load and validate machineroom.yml into the resolved config the daemon runs.

export { loadConfig } from './load-config.js';
export type { LoadConfigOptions } from './load-config.js';
export { configJsonSchema, ConfigSchema, ServiceSchema } from './schema.js';
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
