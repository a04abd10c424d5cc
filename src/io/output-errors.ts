/**
 * Errors about an output path, worded with the path the user gave (never the
 * hidden temporary name). They carry a `code` like Node's own I/O errors, so
 * the CLIs report them as I/O errors (one line, exit status 2).
 */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  readonly code: string;
  constructor(message: string, code = 'EOUTPUT', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A Node I/O error on `hiddenPath`, reworded to name `userPath`. */
export function outputIoError(userPath: string, error: unknown, hiddenPath?: string): Error {
  if (error instanceof OutputError) return error;
  const e = error as NodeJS.ErrnoException;
  if (!(error instanceof Error) || typeof e.code !== 'string') return error as Error;
  let detail = e.message;
  if (hiddenPath) detail = detail.split(`'${hiddenPath}'`).join(`'${userPath}'`).split(hiddenPath).join(userPath);
  if (!detail.includes(userPath)) detail = `${detail} (writing ${userPath})`;
  return new OutputError(`cannot write ${userPath}: ${detail}`, e.code, { cause: error });
}
