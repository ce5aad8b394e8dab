// Issues server (leaf) certificates signed by the local CA: ECDSA P-256, exact SANs, serverAuth, 90 days.
import { createPrivateKey, generateKeyPair, webcrypto } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { LocalCa } from './local-ca.js';
import type { ServerName } from './server-name.js';
import { EC_ALGORITHM, loadX509 } from './x509-lib.js';
import type { X509Lib } from './x509-lib.js';
import { randomSerialNumber } from './serial-number.js';

const HOUR = 3_600_000;
/** How long a leaf is valid. */
export const LEAF_VALIDITY_MS = 90 * 24 * HOUR;
/** How long before a leaf is made valid, for clocks that lag behind. */
const BACKDATE_MS = HOUR;

const generateKeyPairAsync = promisify(generateKeyPair);

/** What signing needs from the CA, prepared once per issuer. */
export interface CaSigner {
  readonly x509: X509Lib;
  readonly issuerName: import('@peculiar/x509').Name;
  readonly signingKey: webcrypto.CryptoKey;
  readonly authorityKeyId: import('@peculiar/x509').AuthorityKeyIdentifierExtension;
  readonly caNotAfter: Date;
}

/** A leaf certificate and its key, PEM. */
export interface IssuedLeaf {
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

/** Parses the CA once (its name, key identifier and signing key) for issuing many leaves. */
export async function createCaSigner(ca: LocalCa): Promise<CaSigner> {
  const x509 = await loadX509();
  const cert = new x509.X509Certificate(ca.certPem);
  const pkcs8 = createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, EC_ALGORITHM, false, ['sign']);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const authorityKeyId = ski ? new x509.AuthorityKeyIdentifierExtension(ski.keyId) : await x509.AuthorityKeyIdentifierExtension.create(cert.publicKey);
  return { x509, issuerName: cert.subjectName, signingKey: signingKey, authorityKeyId, caNotAfter: ca.notAfter };
}

/**
 * Issues a leaf for the given names (DNS or IP SANs, exactly as given; never a wildcard): extendedKeyUsage
 * serverAuth, keyUsage digitalSignature (critical), CA:false, the CA's key identifier, a random serial, valid from an
 * hour before `now` for 90 days (never past the CA's own expiry).
 */
export async function issueLeaf(signer: CaSigner, names: ServerName[], now = new Date()): Promise<IssuedLeaf> {
  const { x509 } = signer;
  const { publicKey, privateKey } = (await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })) as { publicKey: KeyObject; privateKey: KeyObject };
  const notAfter = new Date(Math.min(now.getTime() + LEAF_VALIDITY_MS, signer.caNotAfter.getTime()));
  const first = names[0]!.name;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    // The CN is informational (clients match SANs) and limited to 64 characters.
    subject: first.length <= 64 ? [{ CN: [first] }, { O: ['machineroom'] }] : [{ O: ['machineroom'] }],
    issuer: signer.issuerName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    signingAlgorithm: EC_ALGORITHM,
    publicKey: publicKey.export({ type: 'spki', format: 'der' }),
    signingKey: signer.signingKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: n.kind, value: n.name }))),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.BasicConstraintsExtension(false),
      signer.authorityKeyId,
    ],
  });
  return { certPem: cert.toString('pem').trimEnd() + '\n', keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, notAfter };
}
