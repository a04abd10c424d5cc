/** Options every stream-inspect command shares, and turning them into reader options and inputs. */
import type { Argv } from 'yargs';
import type { Dialect } from '../format/record-types.js';
import type { ReaderOptions } from '../reader/decoder.js';
import type { StreamSource, WindowOptions } from '../reader/sources.js';
import { isatty } from 'node:tty';
import { UsageError } from './errors.js';

export type ModeOption = 'auto' | 'plain' | 'remus' | 'colo';

export interface CommonArgs {
  dialect: Dialect;
  mode: ModeOption;
  lenient: boolean;
  debug: boolean;
}

export const DIALECTS: readonly Dialect[] = ['upstream', 'postcopy-rfc'];
export const MODES: readonly ModeOption[] = ['auto', 'plain', 'remus', 'colo'];

export function withCommonOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('dialect', {
      choices: DIALECTS,
      default: 'upstream' as Dialect,
      describe: 'record numbering of the libxc layer (postcopy-rfc: Joshua Otto\'s unmerged postcopy series)',
    })
    .option('mode', {
      choices: MODES,
      default: 'auto' as ModeOption,
      describe: 'stream mode; auto detects Remus/COLO checkpoints',
    })
    .option('lenient', {
      type: 'boolean',
      default: false,
      describe: 'accept what Xen\'s C reader accepts (verifier-only rules become warnings)',
    })
    .option('debug', { type: 'boolean', default: false, describe: 'show the stack trace of errors' }) as unknown as Argv<T & CommonArgs>;
}

export function readerOptionsFrom(args: CommonArgs): ReaderOptions & WindowOptions {
  // syncReads: a pipe on stdin is read with blocking reads, no thread-pool round trip per chunk (the CLI waits anyway).
  return { dialect: args.dialect, mode: args.mode, strict: !args.lenient, syncReads: true };
}

/** A path, or '-' for standard input. */
export function inputSource(path: string): StreamSource {
  if (path === '-') {
    // fd 0 itself, not process.stdin: the reader then reads the pipe straight into
    // record-sized buffers (touching process.stdin would also make the pipe non-blocking).
    if (isatty(0)) throw new UsageError("'-' reads the stream from standard input, which is a terminal: pipe a stream in or give a file");
    return 0;
  }
  return path;
}

/** Display name of an input. */
export function inputName(path: string): string {
  return path === '-' ? '(stdin)' : path;
}

/**
 * yargs parses a lone '-' as an unnamed flag and hands the positional '' (or
 * true): give it back as '-', the usual name for standard input/output.
 */
export function dashArgument(value: unknown): string {
  return value === '' || value === true ? '-' : String(value);
}

/**
 * The value of an -o option: '-' for standard output. yargs gives '' both for
 * `--output -` and for an empty argument (`-o ''`); only the second is an
 * empty argument on the command line, and it stays '' (refused as a path).
 */
export function outputArgument(value: unknown): string {
  if (value === '' && process.argv.includes('') && !process.argv.includes('-')) return '';
  return dashArgument(value);
}
