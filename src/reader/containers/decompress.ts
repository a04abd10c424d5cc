/**
 * Compressed input: detected by magic, decompressed as a stream (bounded
 * memory, backpressure), with failures as the reader's typed errors at the
 * offset in the decompressed stream where the bytes stopped.
 */
import { Readable } from 'node:stream';
import { formatError } from '../../codec/errors.js';
import { CompressionError, type CompressionCodec } from '../../io/compression/index.js';
import { zlibFailure } from '../../io/compression/gzip.js';

export { COMPRESSION_MAGIC_BYTES, compressionOf } from '../../io/compression/index.js';

/** A failed decompression as STREAM-TRUNCATED / STREAM-COMPRESSED-CORRUPT at `decompressed` (other errors unchanged). */
export function decompressionError(e: unknown, decompressed: number): unknown {
  const c = e instanceof CompressionError ? e : zlibFailure(e);
  if (!(c instanceof CompressionError) || c.failure === 'unavailable') return c;
  const what = `the ${c.format}-compressed input`;
  if (c.failure === 'truncated') {
    return formatError('TRUNCATED', { offset: decompressed }, { detail: `${what} ends early (${c.message}), after ${decompressed} decompressed bytes` });
  }
  return formatError('COMPRESSED_CORRUPT', { offset: decompressed }, { detail: `${what} is corrupt (${c.message}), after ${decompressed} decompressed bytes` });
}

export interface Decompression {
  chunks: AsyncIterable<Uint8Array>;
  /** Stop early (the consumer is done): ends the decompressor and the input. */
  stop(): void;
}

/** `input`'s bytes decompressed by `codec`, as chunks; errors come out typed (see decompressionError). */
export function decompressChunks(codec: CompressionCodec, input: AsyncIterable<Uint8Array>): Decompression {
  const filter = codec.decompressor();
  const src = Readable.from(input, { objectMode: false });
  // An input that fails to read is reported as itself, not as the truncation it causes.
  let inputError: unknown;
  src.on('error', (e) => {
    inputError = e;
    filter.input.end();
  });
  src.pipe(filter.input);
  async function* chunks(): AsyncIterable<Uint8Array> {
    let n = 0;
    try {
      for await (const c of filter.output) {
        n += (c as Uint8Array).length;
        yield c as Uint8Array;
      }
      await filter.finished;
    } catch (e) {
      throw inputError ?? decompressionError(e, n);
    }
    if (inputError) throw inputError;
  }
  return {
    chunks: chunks(),
    stop: () => {
      src.destroy();
      filter.stop();
    },
  };
}

/** Bytes in memory, decompressed (the synchronous reader); failures typed at offset 0. */
export function decompressSync(codec: CompressionCodec, bytes: Uint8Array): Uint8Array {
  try {
    return codec.decompressSync(bytes);
  } catch (e) {
    throw decompressionError(e, 0);
  }
}
