/** Options every stream-inspect command shares, and turning them into reader options and inputs. */
import type { Argv } from 'yargs';
import type { Dialect } from '../format/record-types.js';
import type { ReaderOptions } from '../reader/decoder.js';
import type { StreamSource, WindowOptions } from '../reader/sources.js';
import { fstatSync, statSync } from 'node:fs';
import { UsageError } from './errors.js';

// node:tty (and node:net under it) only when standard input is asked for: not on every command's start-up.
const tty = (): typeof import('node:tty') => process.getBuiltinModule('node:tty');

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
      describe: "record numbering of the libxc layer (postcopy-rfc: Joshua Otto's unmerged postcopy series)",
    })
    .option('mode', {
      choices: MODES,
      default: 'auto' as ModeOption,
      describe: 'stream mode; auto detects Remus/COLO checkpoints',
    })
    .option('lenient', {
      type: 'boolean',
      default: false,
      describe: "accept what Xen's C reader accepts (verifier-only rules become warnings)",
    })
    .option('debug', { type: 'boolean', default: false, describe: 'show the stack trace of errors' }) as unknown as Argv<T & CommonArgs>;
}

export function readerOptionsFrom(args: CommonArgs): ReaderOptions & WindowOptions {
  // syncReads: a pipe on stdin is read with blocking reads, no thread-pool round trip per chunk (the CLI waits anyway).
  return { dialect: args.dialect, mode: args.mode, strict: !args.lenient, syncReads: true };
}

/** A terminal is a character device: for pipes and files, node:tty (and node:net under it) is never loaded. */
function stdinIsTerminal(): boolean {
  try {
    if (!fstatSync(0).isCharacterDevice()) return false;
  } catch {
    return false; // closed: the read reports it
  }
  return tty().isatty(0);
}

/** A path, or '-' for standard input. */
export function inputSource(path: string): StreamSource {
  if (path === '-') {
    // fd 0 itself, not process.stdin: the reader then reads the pipe straight into
    // record-sized buffers (touching process.stdin would also make the pipe non-blocking).
    if (stdinIsTerminal()) throw new UsageError("'-' reads the stream from standard input, which is a terminal: pipe a stream in or give a file");
    return 0;
  }
  checkNotDirectory(path);
  return path;
}

/**
 * Refuse a directory by name: opening one for reading succeeds and the first
 * read fails with a bare "EISDIR: illegal operation on a directory, read".
 * (A missing or unreadable file is reported by open(), with its path.)
 */
export function checkNotDirectory(path: string): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return;
  }
  if (isDirectory) throw new UsageError(`${path} is a directory, not a file`);
}

/** Display name of an input. */
export function inputName(path: string): string {
  return path === '-' ? '(stdin)' : path;
}

/**
 * yargs parses a lone '-' as an unnamed flag and hands the positional '' (or
 * true): give it back as '-', the usual name for standard input/output.
 */
/** The <file> positional of every command that reads a stream. */
export const STREAM_FILE_ARGUMENT = {
  type: 'string',
  demandOption: true,
  coerce: dashArgument,
  describe: "stream (xl save file, libxl or libxc stream, libvirt or XenServer image; compressed ok), or '-' for stdin",
} as const;

export function dashArgument(value: unknown): string {
  return value === '' || value === true ? '-' : String(value);
}

/**
 * An integer option given as text (decimal or 0x hex) within [min, max]; a
 * UsageError quoting what was typed otherwise (yargs' `type: 'number'` turns
 * "abc" into NaN and "1.5" into 1.5 without a word).
 */
export function integerOption(name: string, text: string, min: number, max: number): number {
  const t = String(text).trim();
  const n = /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}
