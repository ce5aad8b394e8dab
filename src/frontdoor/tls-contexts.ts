// TLS for the front door's https listeners: the project's local CA issues a leaf per name the front door answers.
// Setting the CA up (loading the X.509 library, signing the default leaf) takes ~300 ms, so it runs beside start-up:
// the listener is bound at once, handshakes wait for the issuer, and the default certificate (for clients that send
// no server name) is installed when it is ready.
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

/** Starts loading (or making) the CA under the state directory; the contexts are usable at once. */
export function tlsContextsFor(stateDir: string, projectName: string, state: () => RoutingState, domain: string): TlsContexts {
  const issuer: Promise<LeafIssuer> = ensureLocalCa(stateDir, { projectName }).then((ca) => createLeafIssuer(ca, { allow: (name) => answersName(name, state(), domain) }));
  issuer.catch((err: unknown) => log.warn(`HTTPS cannot serve: the project CA could not be set up: ${err instanceof Error ? err.message : String(err)}`));
  return {
    SNICallback(servername, cb) {
      issuer.then(
        (i) => i.SNICallback(servername, cb),
        (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
      );
    },
    attach(server: TlsServer) {
      issuer.then(
        (i) => {
          const { cert, key } = i.serverOptions();
          server.setSecureContext({ cert, key });
        },
        () => undefined,
      );
    },
  };
}
