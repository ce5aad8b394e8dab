// Random certificate serial numbers: 16 bytes, positive, never zero (RFC 5280 section 4.1.2.2).
import { randomBytes } from 'node:crypto';

/** A fresh random serial number as hex, for X509CertificateGenerator. */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}
