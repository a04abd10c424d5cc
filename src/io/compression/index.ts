/** The compression formats, found by magic on input and by name or file ending on output. */
import { bzip2Codec } from './bzip2.js';
import type { CompressionCodec, CompressionName } from './codec.js';
import { gzipCodec } from './gzip.js';
import { lz4Codec } from './lz4.js';
import { xzCodec } from './xz.js';
import { zstdCodec } from './zstd.js';

export { COMPRESSION_NAMES, CompressionError, type CompressionCodec, type CompressionName, type Filter } from './codec.js';

export const CODECS: readonly CompressionCodec[] = [gzipCodec, zstdCodec, xzCodec, bzip2Codec, lz4Codec];

/** Bytes enough to recognise every format's magic. */
export const COMPRESSION_MAGIC_BYTES = Math.max(...CODECS.map((c) => c.magicLength));

/** The format whose magic `head` starts with. */
export function compressionOf(head: Uint8Array): CompressionCodec | undefined {
  return CODECS.find((c) => c.matches(head));
}

export function codecNamed(name: CompressionName): CompressionCodec {
  return CODECS.find((c) => c.name === name) as CompressionCodec;
}

/** The format a file name's ending asks for (`save.zst` → zstd), if any. */
export function compressionForPath(path: string): CompressionCodec | undefined {
  const lower = path.toLowerCase();
  return CODECS.find((c) => c.extensions.some((e) => lower.endsWith(e)));
}
