// Compose-style profiles: which services are active for the profiles the user turned on.

import { collectWithDependencies, listDependencies } from './dependency-graph.js';
import type { ServiceOptions } from './schema.js';

/** The active profiles: --profile values plus MACHINEROOM_PROFILES (comma-separated), like COMPOSE_PROFILES. */
export function listActiveProfiles(fromOptions: readonly string[] | undefined, fromEnv: string | undefined): string[] {
  const fromVariable = (fromEnv ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  return [...new Set([...(fromOptions ?? []), ...fromVariable])];
}

/**
 * Active service names in declaration order: services without profiles, services with an active profile
 * ("*" activates all), and whatever those depend on, even in an inactive profile (as Compose does).
 */
export function selectActiveServices(services: Record<string, ServiceOptions>, profiles: readonly string[]): string[] {
  const names = Object.keys(services);
  const everything = profiles.includes('*');
  const roots = names.filter((name) => {
    const own = services[name]!.profiles ?? [];
    return own.length === 0 || everything || own.some((profile) => profiles.includes(profile));
  });
  const active = collectWithDependencies(roots, (name) => listDependencies(services[name]?.depends_on).map((edge) => edge.service));
  return names.filter((name) => active.has(name));
}
