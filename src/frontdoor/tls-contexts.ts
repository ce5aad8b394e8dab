// TLS for the front door's https listeners: the project's local CA issues a leaf per name the front door answers.
import { createLeafIssuer, ensureLocalCa } from '../tls/index.js';
import type { TlsContexts } from './listener-kinds.js';
import type { RoutingState } from './routing-state.js';

/** Whether the front door answers a (normalised) server name: *.localhost, the bus domain's names, configured hosts. */
export function answersName(name: string, state: RoutingState, domain: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (name === domain || name.endsWith(`.${domain}`)) return true;
  return state.routes.some((r) => r.hosts?.some((h) => h.toLowerCase() === name));
}

/** Loads (or makes) the CA under the state directory and prepares the issuer. */
export async function tlsContextsFor(stateDir: string, projectName: string, state: () => RoutingState, domain: string): Promise<TlsContexts> {
  const ca = await ensureLocalCa(stateDir, { projectName });
  const issuer = await createLeafIssuer(ca, { allow: (name) => answersName(name, state(), domain) });
  return { serverOptions: () => issuer.serverOptions() };
}
