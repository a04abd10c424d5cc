/** gzip: Node's own zlib, in and out. */
import type { Gzip } from 'node:zlib';
import { CompressionError, startsWith, type CompressionCodec, type Filter } from './codec.js';

// node:zlib is loaded when gzip is first used, not at every command's start-up (issue #15).
const zlib = (): typeof import('node:zlib') => process.getBuiltinModule('node:zlib');

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

function zlibFilter(stream: Gzip): Filter {
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
  compressor: () => zlibFilter(zlib().createGzip({ chunkSize: CHUNK, level: zlib().constants.Z_DEFAULT_COMPRESSION })),
  decompressor: () => zlibFilter(zlib().createGunzip({ chunkSize: CHUNK })),
  decompressSync(bytes) {
    try {
      return new Uint8Array(zlib().gunzipSync(bytes));
    } catch (e) {
      throw zlibFailure(e);
    }
  },
  implementation: () => `Node ${process.version} zlib`,
};
