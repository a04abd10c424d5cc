/** xz: the system `xz` tool (xz-utils), in and out. */
import { startsWith, type CompressionCodec } from './codec.js';
import { toolDecompressSync, toolDescription, toolFilter, type ToolSpec } from './external-tool.js';

const TOOL: ToolSpec = {
  format: 'xz',
  command: 'xz',
  compressArgs: ['-q', '-c', '-3', '-T1'],
  decompressArgs: ['-q', '-d', '-c'],
  truncation: /unexpected end of input/i,
};

export const xzCodec: CompressionCodec = {
  name: 'xz',
  extensions: ['.xz'],
  magicLength: 6,
  matches: (head) => startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  compressor: () => toolFilter(TOOL, 'compress'),
  decompressor: () => toolFilter(TOOL, 'decompress'),
  decompressSync: (bytes) => toolDecompressSync(TOOL, bytes),
  implementation: () => toolDescription(TOOL.command) ?? 'none (install xz-utils)',
};
