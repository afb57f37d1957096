/**
 * Registers the compression codecs kafkajs lacks (Snappy, LZ4) so a consumer never crashes on a
 * batch another producer compressed (tulios/kafkajs#1141) and our producer can use them too.
 */
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import createSnappyCodec from 'kafkajs-snappy';
import { compressLz4Frame, decompressLz4Frame } from './lz4-frame';

/** The codec shape kafkajs calls: compress receives its encoder, decompress the raw batch bytes. */
export interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

export const lz4Codec: KafkajsCodec = {
  async compress(encoder) {
    return compressLz4Frame(encoder.buffer);
  },
  async decompress(buffer) {
    return decompressLz4Frame(buffer);
  },
};

export const snappyCodec: KafkajsCodec = createSnappyCodec();

let registered = false;

/** Idempotent: safe to call from every module that creates kafkajs clients. */
export function registerCompressionCodecs(): void {
  if (registered) return;
  CompressionCodecs[CompressionTypes.Snappy] = () => snappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
  registered = true;
}

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4';

export function compressionType(name: CompressionName): CompressionTypes {
  switch (name) {
    case 'none':
      return CompressionTypes.None;
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'snappy':
      return CompressionTypes.Snappy;
    case 'lz4':
      return CompressionTypes.LZ4;
  }
}
