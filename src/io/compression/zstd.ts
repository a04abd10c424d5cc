/**
 * zstd: the system `zstd` tool; reading falls back to fzstd (pure JavaScript,
 * no native build) where the tool is missing. Node 20's zlib has no zstd.
 */
import { Transform } from 'node:stream';
import { Decompress, decompress as fzstdDecompress } from 'fzstd';
import { CompressionError, startsWith, type CompressionCodec, type Filter } from './codec.js';
import { findTool, toolDecompressSync, toolDescription, toolFilter, type ToolSpec } from './external-tool.js';

const TOOL: ToolSpec = {
  format: 'zstd',
  command: 'zstd',
  compressArgs: ['-q', '-c', '-3'],
  decompressArgs: ['-q', '-d', '-c'],
  truncation: /premature end|truncated|unexpected end/i,
};

/** fzstd's error codes: 5 is UnexpectedEOF (the input ends inside a frame). */
function fzstdFailure(e: unknown): CompressionError {
  const code = (e as { code?: unknown }).code;
  return new CompressionError('zstd', code === 5 ? 'truncated' : 'corrupt', `fzstd: ${(e as Error).message}`);
}

function fzstdFilter(): Filter {
  const t = new Transform({
    transform(chunk: Uint8Array, _encoding, done) {
      try {
        decoder.push(chunk);
        done();
      } catch (e) {
        done(fzstdFailure(e));
      }
    },
    flush(done) {
      try {
        decoder.push(new Uint8Array(0), true);
        done();
      } catch (e) {
        done(fzstdFailure(e));
      }
    },
  });
  // Each block comes out as a new buffer (fzstd copies it into its window afterwards), so it can be passed on as it is.
  const decoder = new Decompress((data) => {
    if (data.length > 0) t.push(data);
  });
  const finished = new Promise<void>((resolve, reject) => {
    t.on('end', resolve);
    t.on('error', reject);
  });
  finished.catch(() => undefined);
  return { input: t, output: t, finished, stop: () => t.destroy() };
}

export const zstdCodec: CompressionCodec = {
  name: 'zstd',
  extensions: ['.zst', '.zstd'],
  magicLength: 4,
  matches: (head) => startsWith(head, [0x28, 0xb5, 0x2f, 0xfd]),
  compressor: () => toolFilter(TOOL, 'compress'),
  decompressor: () => (findTool(TOOL.command) ? toolFilter(TOOL, 'decompress') : fzstdFilter()),
  decompressSync(bytes) {
    if (findTool(TOOL.command)) return toolDecompressSync(TOOL, bytes);
    try {
      return fzstdDecompress(bytes);
    } catch (e) {
      throw fzstdFailure(e);
    }
  },
  implementation: (direction) => toolDescription(TOOL.command) ?? (direction === 'decompress' ? 'fzstd 0.1.1 (pure JavaScript)' : 'none (install zstd)'),
};

/** Reading through fzstd even where the tool exists (tests and benchmarks of the fallback). */
export const fzstdDecompressor = fzstdFilter;
