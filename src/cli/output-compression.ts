/**
 * `--compress FORMAT` and `-o FILE.zst|.xz|.gz|.bz2|.lz4` on the commands that
 * write a stream. The file name's ending chooses the format unless --compress
 * says otherwise (`none`: never compress); stdout is compressed only when
 * --compress asks. A compressed stdout is written through /dev/stdout (an
 * AtomicOutput writing directly, as for any device).
 */
import type { Argv } from 'yargs';
import { COMPRESSION_NAMES, compressionForPath, type CompressionName } from '../io/compression/index.js';

export const COMPRESS_CHOICES = ['none', ...COMPRESSION_NAMES] as const;
export type CompressChoice = (typeof COMPRESS_CHOICES)[number];

export interface CompressArgs {
  compress?: CompressChoice | undefined;
}

export function withCompressOption<T>(y: Argv<T>): Argv<T & CompressArgs> {
  return y.option('compress', {
    type: 'string',
    choices: COMPRESS_CHOICES,
    describe: "compress the output stream (default: from -o's ending .gz .zst .xz .bz2 .lz4; stdout: none)",
  }) as unknown as Argv<T & CompressArgs>;
}

/** The format for `output` ('-' or undefined: stdout). */
export function outputCompression(output: string | undefined, choice: CompressChoice | undefined): CompressionName | undefined {
  if (choice === 'none') return undefined;
  if (choice !== undefined) return choice;
  if (output === undefined || output === '-') return undefined;
  return compressionForPath(output)?.name;
}

/** Where a compressed stdout is written. */
export const STDOUT_PATH = '/dev/stdout';
