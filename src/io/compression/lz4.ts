/** lz4 (frame format; the tool also reads the legacy format): the system `lz4` tool, in and out. */
import { startsWith, type CompressionCodec } from './codec.js';
import { toolDecompressSync, toolDescription, toolFilter, type ToolSpec } from './external-tool.js';

const TOOL: ToolSpec = {
  format: 'lz4',
  command: 'lz4',
  compressArgs: ['-q', '-c', '-1'],
  decompressArgs: ['-q', '-d', '-c'],
  truncation: /unfinished stream|unexpected end|truncated/i,
};

const FRAME_MAGIC = [0x04, 0x22, 0x4d, 0x18];
const LEGACY_MAGIC = [0x02, 0x21, 0x4c, 0x18];

export const lz4Codec: CompressionCodec = {
  name: 'lz4',
  extensions: ['.lz4'],
  magicLength: 4,
  matches: (head) => startsWith(head, FRAME_MAGIC) || startsWith(head, LEGACY_MAGIC),
  compressor: () => toolFilter(TOOL, 'compress'),
  decompressor: () => toolFilter(TOOL, 'decompress'),
  decompressSync: (bytes) => toolDecompressSync(TOOL, bytes),
  implementation: () => toolDescription(TOOL.command) ?? 'none (install lz4)',
};
