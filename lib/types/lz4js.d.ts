// lz4js ships no type declarations; only the block-level functions used by lib/kafka/lz4-frame.ts are declared.
declare module 'lz4js' {
  /** Compresses src[sIndex, sIndex+sLength) into dst; returns the compressed size, 0 when nothing matched. */
  export function compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    hashTable: Uint32Array,
  ): number;
  /** Decompresses src[sIndex, sIndex+sLength) into dst from dIndex; returns the new end index in dst. */
  export function decompressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    dIndex: number,
  ): number;
  export function compressBound(n: number): number;
}

declare module 'lz4js/xxh32.js' {
  /** xxHash32 of src[index, index+len). */
  export function hash(seed: number, src: Uint8Array, index: number, len: number): number;
}
