// The message for a key the schema does not know: a likely typo, a Compose name, or the allowed keys.

import { suggestName } from './suggest-name.js';

const COMPOSE_NAMES: Record<string, string> = {
  environment: 'env',
  working_dir: 'cwd',
  healthcheck: 'health',
  stop_grace_period: 'stop_grace',
  labels: 'meta',
};

const NOT_SUPPORTED: Record<string, string> = {
  image: 'machineroom runs processes, not images: set command (and build)',
  volumes: 'instances run on the host file system: no volumes needed',
  links: 'use depends_on; services find each other on the service bus',
};

/** Explains an unknown key and what to write instead. */
export function describeUnknownKey(key: string, allowed: readonly string[]): string {
  const composeName = Object.hasOwn(COMPOSE_NAMES, key) ? COMPOSE_NAMES[key] : undefined;
  if (composeName !== undefined && allowed.includes(composeName)) return `unknown key; did you mean "${composeName}"?`;
  const unsupported = Object.hasOwn(NOT_SUPPORTED, key) ? NOT_SUPPORTED[key] : undefined;
  if (unsupported !== undefined && allowed.includes('command')) return `unknown key; ${unsupported}`;
  const suggestion = suggestName(key, allowed);
  if (suggestion !== undefined) return `unknown key; did you mean "${suggestion}"?`;
  return `unknown key; allowed keys are ${allowed.join(', ')}`;
}
