// The front door's local certificate authority: one CA per project, and leaf certificates issued per server name.
export type { LocalCa } from './local-ca.js';
export { ensureLocalCa, readLocalCa, caPaths } from './local-ca.js';
export type { LeafIssuer, LeafIssuerOptions } from './leaf-issuer.js';
export { createLeafIssuer } from './leaf-issuer.js';
export type { ServerName } from './server-name.js';
export { normalizeServerName } from './server-name.js';
