/** gzip: Node's own zlib, in and out. */
import { constants, createGunzip, createGzip, gunzipSync } from 'node:zlib';
import { CompressionError, startsWith, type CompressionCodec, type Filter } from './codec.js';

/** zlib output chunk size: one thread-pool round trip per chunk of decompressed bytes. */
const CHUNK = 1 << 20;

/** zlib's complaint (Z_* codes) as a CompressionError; anything else as it is. */
export function zlibFailure(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('Z_')) return e;
  return code === 'Z_BUF_ERROR'
    ? new CompressionError('gzip', 'truncated', 'the gzip-compressed input ends early')
    : new CompressionError('gzip', 'corrupt', `the gzip-compressed input is corrupt (zlib: ${(e as Error).message})`);
}

function zlibFilter(stream: ReturnType<typeof createGzip>): Filter {
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', (e) => reject(zlibFailure(e)));
  });
  finished.catch(() => undefined);
  return { input: stream, output: stream, finished, stop: () => stream.destroy() };
}

export const gzipCodec: CompressionCodec = {
  name: 'gzip',
  extensions: ['.gz', '.gzip'],
  magicLength: 2,
  matches: (head) => startsWith(head, [0x1f, 0x8b]),
  compressor: () => zlibFilter(createGzip({ chunkSize: CHUNK, level: constants.Z_DEFAULT_COMPRESSION })),
  decompressor: () => zlibFilter(createGunzip({ chunkSize: CHUNK })),
  decompressSync(bytes) {
    try {
      return new Uint8Array(gunzipSync(bytes));
    } catch (e) {
      throw zlibFailure(e);
    }
  },
  implementation: () => `Node ${process.version} zlib`,
};
