// Server names a leaf may be issued for: lower-cased, trailing dot removed, valid DNS names or IP literals only.
import { isIP } from 'node:net';

/** A server name ready for a certificate: a DNS name (SAN dNSName) or an IP literal (SAN iPAddress). */
export interface ServerName {
  name: string;
  kind: 'dns' | 'ip';
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * Normalises a name as a TLS client sent it (SNI) or a caller asked for it: lower case, no trailing dot.
 * Returns undefined for anything a certificate must not name: empty, longer than 253 characters, a wildcard,
 * characters outside letters, digits, `-` and `_`, empty or over-long labels, or a bare number.
 */
export function normalizeServerName(raw: string): ServerName | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 254) return undefined;
  const bracketed = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  const ipVersion = isIP(bracketed);
  if (ipVersion === 4) return { name: bracketed, kind: 'ip' };
  // One spelling per IPv6 address (`0:0::1` and `::1` share a leaf): the WHATWG URL parser's canonical form.
  if (ipVersion === 6) return { name: new URL(`http://[${bracketed}]/`).hostname.slice(1, -1), kind: 'ip' };
  const name = raw.toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) return undefined;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return undefined;
  // The last label of a DNS name is never all digits (that would be a mistyped IPv4 address).
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return undefined;
  return { name, kind: 'dns' };
}
