// Numeric DNS codes (RFC 1035, 2782, 3596, 6891) the server reads and writes, and their names for dns-packet.

/** Record types the server answers or recognises. */
export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

/** Response codes, as numbers on the wire. */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

/** A response code's number. */
export type Rcode = (typeof RCODE)[keyof typeof RCODE];

/** Response code names, as dns-packet spells them. */
export type RcodeName = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

/** Header flag bits (the second 16-bit word). */
export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  CD: 0x0010,
} as const;

/** DNS class IN. */
export const CLASS_IN = 1;

/** The classic UDP payload limit without EDNS0 (RFC 1035 §4.2.1). */
export const UDP_DEFAULT_LIMIT = 512;

/** The largest DNS message (the TCP length prefix is 16 bits). */
export const MAX_MESSAGE = 65535;

/** The UDP payload size this server advertises in its OPT record. */
export const ADVERTISED_UDP_SIZE = 4096;

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k]));

/** A record type's name (`A`, `SRV`), or dns-packet's `UNKNOWN_<n>` for one this server does not know. */
export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `UNKNOWN_${type}`;
}

/** A record type's number from its name (`SRV`, `UNKNOWN_99`); 0 when unrecognised. */
export function typeNumber(name: string): number {
  const upper = name.toUpperCase();
  const known = (TYPE as Record<string, number>)[upper];
  if (known !== undefined) return known;
  const m = /^(?:UNKNOWN_|TYPE)(\d+)$/.exec(upper);
  return m ? Number(m[1]) : 0;
}

const RCODE_NAMES: Record<number, RcodeName> = Object.fromEntries(Object.entries(RCODE).map(([k, v]) => [v, k as RcodeName]));

/** A response code's name. */
export function rcodeName(rcode: number): RcodeName {
  return RCODE_NAMES[rcode] ?? 'SERVFAIL';
}
