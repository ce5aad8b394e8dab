// CRC-32 (IEEE, as zlib and gzip compute it) for write-ahead log records: a torn or corrupted record fails its check.
import * as zlib from 'node:zlib';

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 computed in JavaScript; the fallback for Node versions before zlib.crc32 (20.15). */
export function crc32Portable(data: Uint8Array, initial = 0): number {
  const t = crcTable();
  let c = (initial ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `data`, continuing from `initial` (the CRC of what came before); native when Node has it. */
export function crc32(data: Uint8Array, initial = 0): number {
  return native ? native(data, initial) >>> 0 : crc32Portable(data, initial);
}
