// Leaf certificates for the front door's TLS handshakes: issued on demand per server name, cached, renewed before expiry.
import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { MachineroomError } from '../errors/index.js';
import type { LocalCa } from './local-ca.js';
import { createCaSigner, issueLeaf } from './issue-leaf.js';
import type { CaSigner, IssuedLeaf } from './issue-leaf.js';
import { normalizeServerName } from './server-name.js';
import type { ServerName } from './server-name.js';

/** A leaf is issued again when it has less than this left. */
const RENEW_BEFORE_MS = 7 * 24 * 3_600_000;
/** At most this many names are cached (the oldest is dropped first), however many names clients make up. */
const MAX_CACHED = 1000;

/** Serves certificates for the names the front door answers, signed by the local CA. */
export interface LeafIssuer {
  /** For tls/https.createServer `SNICallback`: a (cached) leaf for an allowed name; the default context for any other name, so the client gets a name mismatch rather than a hang. */
  SNICallback(servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void;
  /** Context for clients that send no SNI: a leaf for localhost, 127.0.0.1 and ::1 (renewed like the others). */
  readonly defaultContext: SecureContext;
  /**
   * Options to spread into tls/https.createServer: SNICallback, plus the default leaf's `cert` and `key` (a server
   * answers clients without SNI from those PEMs, not from a SecureContext). The default leaf is renewed like the
   * others; a server that runs for months picks the renewal up with `server.setSecureContext(issuer.serverOptions())`.
   */
  serverOptions(): { SNICallback: LeafIssuer['SNICallback']; cert: string; key: string };
  /** Issues or returns the cached leaf PEMs for a valid name, allowed or not (tests, and pre-warming known route names). */
  leafFor(servername: string): Promise<{ certPem: string; keyPem: string }>;
}

/** Options of createLeafIssuer. */
export interface LeafIssuerOptions {
  /** Whether SNICallback may issue a leaf for this (normalised) name: the front door's known host names. */
  allow(servername: string): boolean;
  /** The clock (tests). */
  now?: () => number;
}

interface Issued extends IssuedLeaf {
  context: SecureContext;
}

interface Entry {
  promise: Promise<Issued>;
  /** Set once issued: when to issue again. */
  renewAt?: number;
}

/** The cache key of the default (no SNI) leaf; no server name contains a NUL. */
const DEFAULT_KEY = '\0default';
const DEFAULT_NAMES: ServerName[] = [
  { name: 'localhost', kind: 'dns' },
  { name: '127.0.0.1', kind: 'ip' },
  { name: '::1', kind: 'ip' },
];

/** Creates the issuer: prepares the CA's signing key and the default (no SNI) leaf before it resolves. */
export async function createLeafIssuer(ca: LocalCa, opts: LeafIssuerOptions): Promise<LeafIssuer> {
  const now = opts.now ?? Date.now;
  const signer: CaSigner = await createCaSigner(ca);
  const cache = new Map<string, Entry>();

  async function issue(names: ServerName[]): Promise<Issued> {
    const leaf = await issueLeaf(signer, names, new Date(now()));
    return { ...leaf, context: createSecureContext({ cert: leaf.certPem, key: leaf.keyPem }) };
  }

  /** The cached issuance for a name, started anew when missing, failed or due for renewal; concurrent askers share one. */
  function entryFor(key: string, names: ServerName[]): Promise<Issued> {
    const cached = cache.get(key);
    if (cached && (cached.renewAt === undefined || now() < cached.renewAt)) return cached.promise;
    const entry: Entry = { promise: issue(names) };
    cache.delete(key);
    cache.set(key, entry);
    if (cache.size > MAX_CACHED) {
      for (const oldest of cache.keys()) {
        if (oldest === DEFAULT_KEY) continue; // the default leaf is always kept
        cache.delete(oldest);
        break;
      }
    }
    entry.promise.then(
      (leaf) => (entry.renewAt = leaf.notAfter.getTime() - RENEW_BEFORE_MS),
      () => cache.get(key) === entry && cache.delete(key), // the next handshake tries again
    );
    return entry.promise;
  }

  let current = await entryFor(DEFAULT_KEY, DEFAULT_NAMES);
  /** The default context now; starts its renewal in the background when it is due (the old one serves meanwhile). */
  function defaultContext(): SecureContext {
    void entryFor(DEFAULT_KEY, DEFAULT_NAMES).then(
      (leaf) => (current = leaf),
      () => undefined,
    );
    return current.context;
  }

  const issuer: LeafIssuer = {
    SNICallback(servername, cb) {
      const name = normalizeServerName(servername);
      if (!name || !opts.allow(name.name)) {
        cb(null, defaultContext());
        return;
      }
      entryFor(name.name, [name]).then(
        (leaf) => cb(null, leaf.context),
        (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
      );
    },
    get defaultContext() {
      return defaultContext();
    },
    serverOptions() {
      defaultContext(); // starts a due renewal
      return { SNICallback: issuer.SNICallback, cert: current.certPem, key: current.keyPem };
    },
    async leafFor(servername) {
      const name = normalizeServerName(servername);
      if (!name) throw new MachineroomError('ERR_BAD_REQUEST', `server name "${servername.slice(0, 300)}" cannot be put in a certificate: use a DNS name (letters, digits, "-", at most 253 characters, no wildcard) or an IP address`);
      const { certPem, keyPem } = await entryFor(name.name, [name]);
      return { certPem, keyPem };
    },
  };
  return issuer;
}
