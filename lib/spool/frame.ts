/**
 * The spool's record framing: `[length u32][crc32 u32][payload]`, big-endian. A record cut short by
 * a crash (length past the end of the file) or damaged (checksum mismatch) ends a scan, so the
 * records before it are kept and the torn one is skipped.
 */
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_BYTES = 8;
/** Far above any event the broker accepts; a length beyond it is damage, not data. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

export function frame(payload: Buffer): Buffer {
  if (payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`a spool record holds at most ${MAX_PAYLOAD_BYTES} bytes, not ${payload.length}`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(crc32(payload), 4);
  payload.copy(out, FRAME_HEADER_BYTES);
  return out;
}

export interface ScannedFrame {
  /** Offset of the frame in the scanned buffer. */
  start: number;
  /** Offset just past the frame. */
  end: number;
  payload: Buffer;
}

export interface Scan {
  frames: ScannedFrame[];
  /** Offset just past the last whole, intact frame. */
  end: number;
  /** Why the scan stopped before the end of the buffer: a frame cut short or damaged. */
  torn?: 'cut-short' | 'checksum' | 'bad-length';
}

/**
 * Whole, intact frames of `buf` from `start`, at most `maxFrames`. `partialOk`: the buffer is a
 * window into a longer file, so a frame running past its end is not torn, just not read yet.
 */
export function scanFrames(buf: Buffer, start = 0, maxFrames = Infinity, partialOk = false): Scan {
  const frames: ScannedFrame[] = [];
  let at = start;
  while (at < buf.length && frames.length < maxFrames) {
    if (buf.length - at < FRAME_HEADER_BYTES) return partialOk ? { frames, end: at } : { frames, end: at, torn: 'cut-short' };
    const length = buf.readUInt32BE(at);
    if (length > MAX_PAYLOAD_BYTES) return { frames, end: at, torn: 'bad-length' };
    const end = at + FRAME_HEADER_BYTES + length;
    if (end > buf.length) return partialOk ? { frames, end: at } : { frames, end: at, torn: 'cut-short' };
    const payload = buf.subarray(at + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== buf.readUInt32BE(at + 4)) return { frames, end: at, torn: 'checksum' };
    frames.push({ start: at, end, payload });
    at = end;
  }
  return { frames, end: at };
}

/** The payload length a frame header announces (for reading a frame larger than a read window). */
export function announcedLength(buf: Buffer, at: number): number | undefined {
  return buf.length - at >= FRAME_HEADER_BYTES ? FRAME_HEADER_BYTES + buf.readUInt32BE(at) : undefined;
}
