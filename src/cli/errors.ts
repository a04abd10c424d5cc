/**
 * How every stream-inspect command turns an error into one readable line and
 * an exit status: 1 for invalid input (a stream or JSON document that breaks
 * the format), 2 for usage and I/O errors. `--debug` adds the stack.
 */
import { EncodeError, JsonFormError, StreamFormatError } from '../codec/errors.js';
import { InspectArgumentError } from '../inspect/argument-error.js';
import { OutputClosedError } from '../inspect/text-sink.js';

export const EXIT_OK = 0;
/** Invalid stream (verify: invalid; diff: different). */
export const EXIT_INVALID = 1;
/** Usage or I/O error. */
export const EXIT_USAGE = 2;

const PROGRAM = 'stream-inspect';

/** A command line that cannot be run (missing or conflicting options). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** "STREAM-TRUNCATED at offset 1234 (0x4d2), record #37 libxc PAGE_DATA: …" */
export function describeFormatError(e: StreamFormatError): string {
  let where = `offset ${e.offset} (0x${e.offset.toString(16)})`;
  if (e.recordIndex !== undefined) where += `, record #${e.recordIndex}`;
  const what = [e.layer, e.recordName].filter(Boolean).join(' ');
  if (what) where += `${e.recordIndex !== undefined ? ' ' : ', '}${what}`;
  // The codec's message is "<rule> at <where>: <detail>"; keep only the detail.
  const colon = e.message.indexOf(': ');
  const detail = colon >= 0 ? e.message.slice(colon + 2) : e.message;
  return `${e.ruleId} at ${where}: ${detail}`;
}

function isErrno(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}

/** zlib reports a corrupt gzip stream with Z_* codes: the input is invalid, not unreadable. */
function isCorruptGzip(e: unknown): boolean {
  return isErrno(e) && (e.code ?? '').startsWith('Z_');
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof OutputClosedError) return EXIT_OK;
  if (e instanceof StreamFormatError || e instanceof JsonFormError || e instanceof EncodeError || isCorruptGzip(e)) return EXIT_INVALID;
  return EXIT_USAGE;
}

/** The message body (without the program name). */
export function errorMessage(e: unknown): string {
  if (e instanceof StreamFormatError) return describeFormatError(e);
  if (e instanceof JsonFormError) return `invalid JSON document at ${e.path || '/'}: ${e.problem}`;
  if (e instanceof EncodeError) return `cannot encode: ${e.message}`;
  if (e instanceof UsageError || e instanceof InspectArgumentError) return e.message;
  if (isCorruptGzip(e)) return `corrupt gzip input: ${(e as Error).message}`;
  if (isErrno(e)) return e.message;
  if (e instanceof Error) return `internal error: ${e.message} (run with --debug for the stack)`;
  return `internal error: ${String(e)}`;
}

/** The line printed on stderr: one line unless `debug`. */
export function errorLine(e: unknown, debug = false): string {
  const line = `${PROGRAM}: ${oneLine(errorMessage(e))}`;
  if (debug && e instanceof Error && e.stack) return `${line}\n${e.stack}`;
  return line;
}

/**
 * Run a command body: its return value is the exit status; any error is
 * printed as one line and mapped to a status. Never throws.
 */
export async function runCommand(args: { debug?: boolean }, body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (e) {
    const code = exitCodeFor(e);
    if (!(e instanceof OutputClosedError)) process.stderr.write(errorLine(e, args.debug ?? false) + '\n');
    process.exitCode = code;
  }
}
