/**
 * The one place where both CLIs (stream-inspect, stream-migrate) turn an
 * outcome into an exit status and an error into one readable line on stderr
 * (`--debug` adds the stack). The statuses, as the README documents them:
 *
 *   0    success (verify: valid; diff: same)
 *   1    the input breaks the format (verify: invalid; diff: different),
 *        or a migration session failed
 *   2    usage error, I/O error, internal error
 *   141  the reader of standard output went away (`… | head`): 128 + SIGPIPE,
 *        what `cat` and every tool killed by SIGPIPE report
 *   128+n  stopped by signal n (SIGINT 130, SIGTERM 143, SIGHUP 129)
 */
import { constants } from 'node:os';
import { EncodeError, JsonFormError, StreamFormatError } from '../codec/errors.js';
import { InspectArgumentError } from '../inspect/argument-error.js';
import { OutputClosedError } from '../inspect/text-sink.js';

export const EXIT_OK = 0;
/** Invalid input (verify: invalid; diff: different; stream-migrate: the session failed). */
export const EXIT_INVALID = 1;
/** Usage, I/O or internal error. */
export const EXIT_USAGE = 2;
/** Standard output's reader went away: 128 + SIGPIPE, as `cat` reports it. */
export const EXIT_OUTPUT_CLOSED = 128 + constants.signals.SIGPIPE;

/** The status of a run stopped by a signal: 128 + its number (SIGINT 130, SIGTERM 143). */
export function exitStatusForSignal(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/** A command line that cannot be run (missing, unknown, conflicting or out-of-range options). */
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

/** The reader of our output went away (EPIPE), seen through a sink or the stream itself. */
export function isOutputClosed(e: unknown): boolean {
  return e instanceof OutputClosedError || (isErrno(e) && e.code === 'EPIPE');
}

/** yargs' own validation errors ("Unknown argument", "Invalid values", …) are usage errors. */
function isYargsError(e: unknown): boolean {
  return e instanceof Error && e.name === 'YError';
}

export function exitCodeFor(e: unknown): number {
  if (isOutputClosed(e)) return EXIT_OUTPUT_CLOSED;
  if (e instanceof StreamFormatError || e instanceof JsonFormError || e instanceof EncodeError || isCorruptGzip(e)) return EXIT_INVALID;
  return EXIT_USAGE;
}

/** The message body (without the program name). */
export function errorMessage(e: unknown): string {
  if (e instanceof StreamFormatError) return describeFormatError(e);
  if (e instanceof JsonFormError) return `invalid JSON document at ${e.path || '/'}: ${e.problem}`;
  if (e instanceof EncodeError) return `cannot encode: ${e.message}`;
  if (e instanceof UsageError || e instanceof InspectArgumentError || isYargsError(e)) return (e as Error).message;
  if (isCorruptGzip(e)) return `corrupt gzip input: ${(e as Error).message}`;
  if (isErrno(e)) return e.message;
  if (e instanceof Error) return `internal error: ${e.message} (run with --debug for the stack)`;
  return `internal error: ${String(e)}`;
}

/** The line printed on stderr: one line unless `debug`. */
export function errorLine(program: string, e: unknown, debug = false): string {
  const line = `${program}: ${oneLine(errorMessage(e))}`;
  if (debug && e instanceof Error && e.stack) return `${line}\n${e.stack}`;
  return line;
}

/** Print `e` as one line and return its exit status (nothing printed when the output was closed). */
export function reportError(program: string, e: unknown, debug = false): number {
  if (!isOutputClosed(e)) process.stderr.write(`${errorLine(program, e, debug)}\n`);
  return exitCodeFor(e);
}

/**
 * Run a stream-inspect command body: its return value is the exit status; any
 * error is printed as one line and mapped to a status. Never throws.
 */
export async function runCommand(args: { debug?: boolean }, body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (e) {
    process.exitCode = reportError('stream-inspect', e, args.debug ?? false);
  }
}

/** yargs' fail handler for both CLIs: its messages become one-line usage errors; a command's own error passes through. */
export function failWithUsageError(message: string | undefined | null, error: Error | undefined | null): never {
  if (error !== undefined && error !== null && !isYargsError(error)) throw error;
  throw new UsageError(oneLine(error?.message ?? message ?? 'bad command line'));
}

/**
 * What happens when the other end of stdout or stderr goes away. stdout:
 * stop at once with EXIT_OUTPUT_CLOSED and no message, as `cat` does when
 * killed by SIGPIPE (Node ignores SIGPIPE and reports EPIPE as an 'error'
 * event, which unhandled prints a stack trace). process.exit still runs
 * 'exit' listeners, so cleanup registered there happens. stderr: its
 * diagnostics are lost, the work goes on. `stdout: false` leaves stdout alone
 * (stream-migrate's receiver speaks its protocol there and handles it itself).
 */
export function guardStandardStreams(program: string, options: { stdout?: boolean } = {}): void {
  if (options.stdout !== false) {
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(EXIT_OUTPUT_CLOSED);
      process.stderr.write(`${errorLine(program, e)}\n`);
      process.exit(EXIT_USAGE);
    });
  }
  process.stderr.on('error', () => undefined);
}
