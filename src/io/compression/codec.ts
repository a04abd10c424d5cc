/**
 * One interface for every compression format the tools read and write. Each
 * format is one module (gzip.ts, zstd.ts, …); this file says what they share.
 * A codec hands out filters: a running compressor or decompressor with a
 * writable side and a readable side, so bytes stream through with bounded
 * memory (backpressure on both sides).
 */
import type { Readable, Writable } from 'node:stream';

export type CompressionName = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'lz4';

export const COMPRESSION_NAMES: readonly CompressionName[] = ['gzip', 'zstd', 'xz', 'bzip2', 'lz4'];

/** A running (de)compressor. */
export interface Filter {
  /** Bytes in (end() it after the last). */
  readonly input: Writable;
  /** Bytes out. */
  readonly output: Readable;
  /** Settles when the filter has finished: rejects with a CompressionError when it failed. */
  readonly finished: Promise<void>;
  /** Stop it now (the input is abandoned). */
  stop(): void;
}

export interface CompressionCodec {
  readonly name: CompressionName;
  /** File name endings that ask for this format on output (`-o save.zst`). */
  readonly extensions: readonly string[];
  /** How many leading bytes `matches` needs. */
  readonly magicLength: number;
  /** The input starts with this format's magic. */
  matches(head: Uint8Array): boolean;
  compressor(): Filter;
  decompressor(): Filter;
  /** Decompress bytes held in memory (the synchronous reader). */
  decompressSync(bytes: Uint8Array): Uint8Array;
  /** What does the work: e.g. "zstd 1.5.4 (system tool)" or "fzstd (pure JavaScript)". */
  implementation(direction: 'compress' | 'decompress'): string;
}

/** Why a (de)compression failed: the input ended early, it is corrupt, or no implementation is available here. */
export type CompressionFailure = 'truncated' | 'corrupt' | 'unavailable';

export class CompressionError extends Error {
  override readonly name = 'CompressionError';
  /** Like Node's I/O errors: the CLIs print the message as it is. */
  readonly code: string;
  constructor(
    readonly format: CompressionName,
    readonly failure: CompressionFailure,
    message: string,
  ) {
    super(message);
    this.code = failure === 'unavailable' ? 'ENOTSUP' : 'ECOMPRESSION';
  }
}

/** `head` starts with `magic`. */
export function startsWith(head: Uint8Array, magic: readonly number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}
