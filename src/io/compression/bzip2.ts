/** bzip2: the system `bzip2` tool, in and out. */
import { startsWith, type CompressionCodec } from './codec.js';
import { toolDecompressSync, toolDescription, toolFilter, type ToolSpec } from './external-tool.js';

const TOOL: ToolSpec = {
  format: 'bzip2',
  command: 'bzip2',
  compressArgs: ['-q', '-c', '-9'],
  // Not -q: it would silence the message that tells a truncated input from a corrupt one.
  decompressArgs: ['-d', '-c'],
  truncation: /ends unexpectedly/i,
};

export const bzip2Codec: CompressionCodec = {
  name: 'bzip2',
  extensions: ['.bz2', '.bzip2'],
  magicLength: 4,
  // "BZh" and the block size digit 1…9.
  matches: (head) => startsWith(head, [0x42, 0x5a, 0x68]) && head.length >= 4 && head[3] >= 0x31 && head[3] <= 0x39,
  compressor: () => toolFilter(TOOL, 'compress'),
  decompressor: () => toolFilter(TOOL, 'decompress'),
  decompressSync: (bytes) => toolDecompressSync(TOOL, bytes),
  implementation: () => toolDescription(TOOL.command) ?? 'none (install bzip2)',
};
