// TLS for the front door's https listeners: the project's local CA issues a leaf per name the front door answers.
// Setting the CA up (loading the X.509 library, signing the default leaf) takes ~300 ms of CPU, so it is done on the
// first HTTPS connection a process gets, never during start-up: handshakes wait for the issuer, and the default
// certificate (for clients that send no server name) is installed when it is ready.
import type { Server as TlsServer } from 'node:tls';
import { createLogger } from '../log/index.js';
import { createLeafIssuer, ensureLocalCa } from '../tls/index.js';
import type { LeafIssuer } from '../tls/index.js';
import type { TlsContexts } from './listener-kinds.js';
import type { RoutingState } from './routing-state.js';

const log = createLogger('frontdoor');

/** Whether the front door answers a (normalised) server name: *.localhost, the bus domain's names, configured hosts. */
export function answersName(name: string, state: RoutingState, domain: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (name === domain || name.endsWith(`.${domain}`)) return true;
  return state.routes.some((r) => r.hosts?.some((h) => h.toLowerCase() === name));
}

/** Contexts that load (or make) the CA under the state directory when first needed. */
export function tlsContextsFor(stateDir: string, projectName: string, state: () => RoutingState, domain: string): TlsContexts {
  let loading: Promise<LeafIssuer> | undefined;
  const servers: TlsServer[] = [];
  const load = (): Promise<LeafIssuer> => {
    if (loading) return loading;
    loading = ensureLocalCa(stateDir, { projectName }).then((ca) => createLeafIssuer(ca, { allow: (name) => answersName(name, state(), domain) }));
    loading.then(
      (i) => {
        const { cert, key } = i.serverOptions();
        for (const s of servers) s.setSecureContext({ cert, key });
      },
      (err: unknown) => log.warn(`HTTPS cannot serve: the project CA could not be set up: ${err instanceof Error ? err.message : String(err)}`),
    );
    return loading;
  };
  return {
    SNICallback(servername, cb) {
      load().then(
        (i) => i.SNICallback(servername, cb),
        (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
      );
    },
    attach(server: TlsServer) {
      servers.push(server);
      // The first connection starts the set-up (a client without SNI never calls SNICallback).
      server.once('connection', () => void load().catch(() => undefined));
    },
  };
}
