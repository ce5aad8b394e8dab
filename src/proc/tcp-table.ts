// Parses /proc/net/tcp and tcp6 into listening sockets, to learn which addresses and ports are taken (and by which inode).
import { endianness } from 'node:os';
import { formatIPv4, formatIPv6, isWildcardAddress } from './ip-address.js';
import { readProcText } from './read-proc-file.js';

/** The socket family, spelled as Node's net module spells it. */
export type SocketFamily = 'IPv4' | 'IPv6';

/** A TCP socket in LISTEN state, as the kernel reports it. */
export interface ListeningSocket {
  readonly family: SocketFamily;
  /** Dotted IPv4, or RFC 5952 IPv6 (`::1`); IPv4-mapped sockets in tcp6 read `::ffff:a.b.c.d`. */
  readonly address: string;
  readonly port: number;
  /** The socket inode, matching `socket:[N]` links under /proc/<pid>/fd. */
  readonly inode: number;
  /** Listening on every local address (`0.0.0.0` or `::`; a `::` socket also takes IPv4 unless IPV6_V6ONLY). */
  readonly isWildcard: boolean;
}

const LISTEN_STATE = '0A';

/**
 * Decodes the hex address column of /proc/net/tcp*: the kernel prints each 32-bit word of the network-order
 * address as a host-order integer, so on little-endian hosts 127.0.0.1 reads `0100007F`. IPv6 is four such words.
 */
export function decodeProcNetAddress(hex: string, byteOrder: 'LE' | 'BE' = endianness()): string | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const bytes = Buffer.alloc(hex.length / 2);
  for (let word = 0; word < hex.length / 8; word++) {
    const value = parseInt(hex.slice(word * 8, word * 8 + 8), 16);
    if (byteOrder === 'LE') bytes.writeUInt32LE(value, word * 4);
    else bytes.writeUInt32BE(value, word * 4);
  }
  return hex.length === 8 ? formatIPv4(bytes) : formatIPv6(bytes);
}

/** Parses the text of /proc/net/tcp (family IPv4) or tcp6 (IPv6), keeping only sockets in LISTEN state. */
export function parseListeningSockets(text: string, family: SocketFamily, byteOrder: 'LE' | 'BE' = endianness()): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN_STATE) continue;
    const [addressHex = '', portHex = ''] = (fields[1] ?? '').split(':');
    const address = decodeProcNetAddress(addressHex, byteOrder);
    const port = parseInt(portHex, 16);
    const inode = Number(fields[9]);
    if (address === undefined || !Number.isInteger(port) || !Number.isSafeInteger(inode)) continue;
    sockets.push({ family, address, port, inode, isWildcard: isWildcardAddress(address) });
  }
  return sockets;
}

/**
 * Lists the TCP sockets in LISTEN state in our network namespace (or, given `pid`, in that process's namespace).
 * Empty when /proc/net is unavailable; tcp6 is simply absent when IPv6 is disabled.
 */
export function listListeningSockets(pid?: number): ListeningSocket[] {
  const base = pid === undefined ? '/proc/self/net' : `/proc/${pid}/net`;
  const v4 = readProcText(`${base}/tcp`);
  const v6 = readProcText(`${base}/tcp6`);
  return [...(v4 === undefined ? [] : parseListeningSockets(v4, 'IPv4')), ...(v6 === undefined ? [] : parseListeningSockets(v6, 'IPv6'))];
}
