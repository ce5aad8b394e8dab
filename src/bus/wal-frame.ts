// The write-ahead log's record framing: [length u32 LE][crc32 u32 LE][payload]. The CRC covers the length bytes and
// the payload, so a torn tail, a zero-filled tail or a flipped bit anywhere in a record is detected.
import { crc32 } from './crc32.js';

/** Bytes before each payload. */
export const FRAME_HEADER_BYTES = 8;

/** No record is larger (a txn of 128 ops of 512 KiB is about 90 MiB in base64); a bigger length is damage. */
export const MAX_FRAME_PAYLOAD = 256 * 1024 * 1024;

/** One intact record found by scanFrames, with where it lies in the scanned bytes. */
export interface ScannedFrame {
  offset: number;
  end: number;
  payload: Buffer;
}

/** What a scan found: the intact records, where they end, and (when it stopped early) why. */
export interface FrameScan {
  frames: ScannedFrame[];
  /** Bytes from the start that hold only intact records; the file is truncated here at recovery. */
  validLength: number;
  damage?: { offset: number; reason: 'torn header' | 'bad length' | 'torn record' | 'checksum mismatch' };
}

function checksum(lengthBytes: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(lengthBytes));
}

/** Frames one payload for appending. */
export function encodeFrame(payload: Buffer): Buffer {
  if (payload.length === 0 || payload.length > MAX_FRAME_PAYLOAD) throw new RangeError(`write-ahead log record of ${payload.length} bytes`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(checksum(frame.subarray(0, 4), payload), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** Reads records from the start of `buf` until the end or the first incomplete or corrupt one. */
export function scanFrames(buf: Buffer): FrameScan {
  const frames: ScannedFrame[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < FRAME_HEADER_BYTES) return { frames, validLength: off, damage: { offset: off, reason: 'torn header' } };
    const length = buf.readUInt32LE(off);
    if (length === 0 || length > MAX_FRAME_PAYLOAD) return { frames, validLength: off, damage: { offset: off, reason: 'bad length' } };
    const end = off + FRAME_HEADER_BYTES + length;
    if (end > buf.length) return { frames, validLength: off, damage: { offset: off, reason: 'torn record' } };
    const payload = buf.subarray(off + FRAME_HEADER_BYTES, end);
    if (checksum(buf.subarray(off, off + 4), payload) !== buf.readUInt32LE(off + 4)) {
      return { frames, validLength: off, damage: { offset: off, reason: 'checksum mismatch' } };
    }
    frames.push({ offset: off, end, payload });
    off = end;
  }
  return { frames, validLength: off };
}
