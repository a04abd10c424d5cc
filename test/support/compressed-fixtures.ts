/**
 * Compressed copies of a real save (fixtures/xen-4.17), made with the system
 * tools at test time (never committed). A format whose tool is missing has no
 * copy: its tests skip and say so.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { CompressionName } from '../../src/io/compression/index.js';
import { findTool } from '../../src/io/compression/external-tool.js';

export const FIXTURE_DIR = join(import.meta.dirname, '../../fixtures/xen-4.17');

/** The tool and its fast settings (the tests need the format, not a small file). */
export const TOOL_ARGS: Record<Exclude<CompressionName, 'gzip'>, string[]> = {
  zstd: ['-q', '-c', '-1'],
  xz: ['-q', '-c', '-0', '-T1'],
  bzip2: ['-q', '-c', '-1'],
  lz4: ['-q', '-c', '-1'],
};

export const EXTENSION: Record<CompressionName, string> = { gzip: '.gz', zstd: '.zst', xz: '.xz', bzip2: '.bz2', lz4: '.lz4' };

/** Why `format` cannot be made here, or undefined when it can. */
export function missingTool(format: CompressionName): string | undefined {
  if (format === 'gzip') return undefined;
  return findTool(format) ? undefined : `the ${format} command is not installed (apt-get install ${format === 'xz' ? 'xz-utils' : format})`;
}

export function compress(format: CompressionName, bytes: Uint8Array): Uint8Array {
  if (format === 'gzip') return new Uint8Array(gzipSync(bytes));
  const r = spawnSync(format, TOOL_ARGS[format], { input: bytes, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${format} failed: ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

export function decompressWithTool(format: CompressionName, bytes: Uint8Array): Uint8Array {
  if (format === 'gzip') return new Uint8Array(gunzipSync(bytes));
  const r = spawnSync(format, ['-q', '-d', '-c'], { input: bytes, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${format} -d failed: ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

/** A real save, decompressed from its committed gzip. */
export function realSave(name = 'hvm128-save'): Uint8Array {
  return new Uint8Array(gunzipSync(readFileSync(join(FIXTURE_DIR, `${name}.bin.gz`))));
}

/** A scratch directory removed by the returned function. */
export function scratchDir(prefix: string): { dir: string; file: (name: string, bytes?: Uint8Array) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name, bytes) => {
      const p = join(dir, name);
      if (bytes) writeFileSync(p, bytes);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
