// Generates the local CA: an ECDSA P-256 key and a self-signed CA certificate valid for 10 years.
import { randomBytes, webcrypto } from 'node:crypto';
import { EC_ALGORITHM, loadX509 } from './x509-lib.js';
import { randomSerialNumber } from './serial-number.js';

const HOUR = 3_600_000;
const CA_VALIDITY_DAYS = 3652;

/** A freshly generated CA, as the PEM texts written to disk. */
export interface CaPems {
  certPem: string;
  keyPem: string;
}

/** The CN of a project's CA: `machineroom local CA (<project>) <short random id>` (at most 64 characters). */
export function caCommonName(projectName: string): string {
  const project = projectName.replace(/[^\x20-\x7e]/g, '').trim().slice(0, 32) || 'machineroom';
  return `machineroom local CA (${project}) ${randomBytes(4).toString('hex')}`;
}

/**
 * Generates a CA key and certificate: basicConstraints CA:true pathLen 0 and keyUsage keyCertSign + cRLSign
 * (both critical), a subject key identifier, valid from an hour before `now` (clock skew) for 10 years.
 */
export async function generateCa(projectName: string, now = new Date()): Promise<CaPems> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [caCommonName(projectName)] }, { O: ['machineroom'] }],
    notBefore: new Date(now.getTime() - HOUR),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * 24 * HOUR),
    signingAlgorithm: EC_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem').trimEnd() + '\n', keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY').trimEnd() + '\n' };
}
