/**
 * LZ4 frame format (the one Kafka uses for record batches since message format v2), built on the
 * block functions of the pure-JS `lz4js`. lz4js's own frame writer leaves the block-independence
 * flag unset, which Kafka's Java reader refuses, so the frame is written here.
 */
import { compressBlock, compressBound, decompressBlock } from 'lz4js';
import { hash as xxh32 } from 'lz4js/xxh32.js';

const MAGIC = 0x184d2204;
const SKIPPABLE_MAGIC_MIN = 0x184d2a50;
const SKIPPABLE_MAGIC_MAX = 0x184d2a5f;
const UNCOMPRESSED_BIT = 0x80000000;

const FLG_VERSION = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICTIONARY_ID = 0x01;

const MAX_BLOCK_SIZES: Record<number, number> = { 4: 0x10000, 5: 0x40000, 6: 0x100000, 7: 0x400000 };
/** 64 KiB blocks, as Kafka's Java producer writes. */
const WRITE_BLOCK_SIZE_ID = 4;
/**
 * Bytes of input per written block. Decoders (lz4 reference, lz4-java) decode into a buffer of the
 * maximum block size and reject a match starting within 12 bytes of that buffer's end; lz4js may
 * start one up to 9 bytes before the end of its input, so blocks stay 16 bytes short of the maximum.
 */
const WRITE_CHUNK = MAX_BLOCK_SIZES[WRITE_BLOCK_SIZE_ID] - 16;

export class Lz4FrameError extends Error {
  override name = 'Lz4FrameError';
}

function uint32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(value >>> 0, 0);
  return b;
}

/** Compresses `input` into one LZ4 frame with independent 64 KiB blocks. */
export function compressLz4Frame(input: Uint8Array): Buffer {
  const flg = FLG_VERSION | FLG_BLOCK_INDEPENDENCE;
  const bd = WRITE_BLOCK_SIZE_ID << 4;
  const descriptor = Buffer.from([flg, bd]);
  const headerChecksum = (xxh32(0, descriptor, 0, 2) >>> 8) & 0xff;
  const parts: Buffer[] = [uint32(MAGIC), descriptor, Buffer.from([headerChecksum])];

  const hashTable = new Uint32Array(1 << 16);
  const scratch = Buffer.allocUnsafe(compressBound(WRITE_CHUNK));
  for (let start = 0; start < input.length; start += WRITE_CHUNK) {
    const chunk = input.subarray(start, Math.min(start + WRITE_CHUNK, input.length));
    hashTable.fill(0);
    const size = compressBlock(chunk, scratch, 0, chunk.length, hashTable);
    if (size > 0 && size < chunk.length) {
      parts.push(uint32(size), Buffer.from(scratch.subarray(0, size)));
    } else {
      parts.push(uint32(UNCOMPRESSED_BIT + chunk.length), Buffer.from(chunk));
    }
  }
  parts.push(uint32(0));
  return Buffer.concat(parts);
}

/** Decompresses one or more concatenated LZ4 frames (skippable frames are skipped). */
export function decompressLz4Frame(input: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < input.length) {
    pos = decodeFrame(input, pos, out);
  }
  return out.length === 1 ? out[0] : Buffer.concat(out);
}

interface BlockRef {
  start: number;
  length: number;
  compressed: boolean;
}

function decodeFrame(input: Buffer, start: number, out: Buffer[]): number {
  let pos = start;
  const need = (n: number): void => {
    if (pos + n > input.length) throw new Lz4FrameError('LZ4 frame is truncated');
  };

  need(4);
  const magic = input.readUInt32LE(pos);
  if (magic >= SKIPPABLE_MAGIC_MIN && magic <= SKIPPABLE_MAGIC_MAX) {
    need(8);
    const end = pos + 8 + input.readUInt32LE(pos + 4);
    if (end > input.length) throw new Lz4FrameError('LZ4 skippable frame is truncated');
    return end;
  }
  if (magic !== MAGIC) throw new Lz4FrameError('not an LZ4 frame (bad magic number)');
  need(7);
  const flg = input[pos + 4];
  const bd = input[pos + 5];
  if ((flg & 0xc0) !== FLG_VERSION) throw new Lz4FrameError('unsupported LZ4 frame version');
  const maxBlockSize = MAX_BLOCK_SIZES[(bd >> 4) & 0x07];
  if (maxBlockSize === undefined) throw new Lz4FrameError('invalid LZ4 block size in frame header');
  pos += 6;
  if (flg & FLG_CONTENT_SIZE) pos += 8;
  if (flg & FLG_DICTIONARY_ID) pos += 4;
  pos += 1; // header checksum; Kafka's pre-v2 writers computed it wrongly, so it is not checked

  const blocks: BlockRef[] = [];
  for (;;) {
    need(4);
    const word = input.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const length = word & 0x7fffffff;
    if (length > maxBlockSize) throw new Lz4FrameError('LZ4 block larger than the frame allows');
    need(length);
    blocks.push({ start: pos, length, compressed: (word & UNCOMPRESSED_BIT) === 0 });
    pos += length;
    if (flg & FLG_BLOCK_CHECKSUM) pos += 4;
  }
  if (flg & FLG_CONTENT_CHECKSUM) pos += 4;
  if (pos > input.length) throw new Lz4FrameError('LZ4 frame is truncated');

  // One output buffer for the frame, so that linked (dependent) blocks can refer to earlier output.
  const output = Buffer.allocUnsafe(blocks.reduce((n, b) => n + (b.compressed ? maxBlockSize : b.length), 0));
  let size = 0;
  for (const block of blocks) {
    if (block.compressed) {
      const end = decompressBlock(input, output, block.start, block.length, size);
      if (end - size > maxBlockSize) throw new Lz4FrameError('corrupt LZ4 block (output overflows the block size)');
      size = end;
    } else {
      input.copy(output, size, block.start, block.start + block.length);
      size += block.length;
    }
  }
  out.push(output.subarray(0, size));
  return pos;
}
