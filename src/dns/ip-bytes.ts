// IP addresses as the bytes DNS carries: parsing catalog addresses, the `<hex>.addr.` form and reverse (PTR) names.
import { formatIPv4, formatIPv6 } from '../proc/index.js';
import { isIPv4, isIPv6 } from 'node:net';

/** The 4 or 16 bytes of an IP address string, or undefined when it is not one (a hostname, or empty). */
export function parseIp(address: string): Uint8Array | undefined {
  if (isIPv4(address)) return parseV4(address);
  if (isIPv6(address)) return parseV6(address);
  return undefined;
}

function parseV4(address: string): Uint8Array {
  const out = new Uint8Array(4);
  const parts = address.split('.');
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

function parseV6(address: string): Uint8Array | undefined {
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const groups: number[] = [];
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const toGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const v4 = isIPv4(piece) ? parseV4(piece) : undefined;
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const left = toGroups(head);
  const right = tail === undefined ? [] : toGroups(tail);
  if (!left || !right) return undefined;
  groups.push(...left);
  if (tail !== undefined) for (let i = left.length + right.length; i < 8; i++) groups.push(0);
  groups.push(...right);
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = groups[i]! >> 8;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** The textual form of 4 or 16 address bytes (IPv6 compressed as RFC 5952 says, as /proc's readers print it). */
export function formatIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIPv4(bytes) : formatIPv6(bytes);
}

/** The `<hex>` label Consul uses for an address in `<hex>.addr.<dc>.<domain>` (127.77.0.2 → 7f4d0002). */
export function hexOfIp(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}

/** The address bytes of an `.addr.` label: 8 hex digits (IPv4) or 32 (IPv6); undefined otherwise. */
export function ipOfHex(label: string): Uint8Array | undefined {
  if ((label.length !== 8 && label.length !== 32) || !/^[0-9a-f]+$/i.test(label)) return undefined;
  const out = new Uint8Array(label.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(label.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * The address a reverse name asks about, or undefined when it is not a complete one: `<d>.<c>.<b>.<a>` before
 * `in-addr.arpa`, or 32 nibbles before `ip6.arpa` (`labels` is the part before the arpa suffix, split on dots).
 */
export function ipOfReverseLabels(labels: string[], family: 4 | 6): Uint8Array | undefined {
  if (family === 4) {
    if (labels.length !== 4) return undefined;
    const out = new Uint8Array(4);
    for (let i = 0; i < 4; i++) {
      const label = labels[3 - i]!;
      if (!/^(0|[1-9][0-9]{0,2})$/.test(label) || Number(label) > 255) return undefined;
      out[i] = Number(label);
    }
    return out;
  }
  if (labels.length !== 32) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 32; i++) {
    const nibble = labels[31 - i]!;
    if (!/^[0-9a-f]$/.test(nibble)) return undefined;
    const v = parseInt(nibble, 16);
    out[i >> 1] |= i % 2 === 0 ? v << 4 : v;
  }
  return out;
}
