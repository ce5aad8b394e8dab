// Renders and compares the addresses found in /proc/net/tcp*, so they match what users and Node's net module print.
import { isIPv4, isIPv6 } from 'node:net';

/** Formats 4 network-order bytes as dotted IPv4 text. */
export function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** Formats 16 network-order bytes as RFC 5952 IPv6 text (`::1`, `2001:db8::1`), IPv4-mapped as `::ffff:a.b.c.d`. */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${formatIPv4(bytes.subarray(12, 16))}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // The longest run of two or more zero groups (the first on a tie) becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Parses IPv6 text (with `::`, an embedded dotted quad, or a `%zone`) into 16 bytes; undefined if invalid. */
export function parseIPv6(text: string): Uint8Array | undefined {
  const address = text.replace(/%.*$/, '');
  if (!isIPv6(address)) return undefined;
  let head = address;
  const tail: number[] = [];
  const dotted = /(?:^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted?.[1]) {
    const quad = dotted[1].split('.').map(Number);
    tail.push(((quad[0] ?? 0) << 8) | (quad[1] ?? 0), ((quad[2] ?? 0) << 8) | (quad[3] ?? 0));
    head = address.slice(0, address.length - dotted[1].length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left = '', right] = head.split('::');
  const toGroups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const leftGroups = toGroups(left);
  const rightGroups = [...(right === undefined ? [] : toGroups(right)), ...tail];
  const fill = right === undefined ? 0 : 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...new Array<number>(Math.max(0, fill)).fill(0), ...rightGroups];
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

/**
 * Canonical text for comparing addresses: IPv4 as is, IPv6 in RFC 5952 form, and an IPv4-mapped IPv6
 * address as its plain IPv4 (`::ffff:127.0.0.1` → `127.0.0.1`). Undefined when not an IP address.
 */
export function canonicalizeAddress(text: string): string | undefined {
  if (isIPv4(text)) return text;
  const bytes = parseIPv6(text);
  if (bytes === undefined) return undefined;
  const formatted = formatIPv6(bytes);
  return formatted.startsWith('::ffff:') && isIPv4(formatted.slice(7)) ? formatted.slice(7) : formatted;
}

/** Whether a listening address accepts connections on every local address (`0.0.0.0`, `::`, `::ffff:0.0.0.0`). */
export function isWildcardAddress(address: string): boolean {
  const canonical = canonicalizeAddress(address);
  return canonical === '0.0.0.0' || canonical === '::';
}
