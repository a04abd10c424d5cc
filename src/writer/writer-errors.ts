/**
 * Errors a writer throws before it writes anything. Both leave the output and
 * the writer's state untouched, so the caller may still write something legal.
 */

/** Base class: the write was refused and nothing was written. */
export class WriterError extends Error {
  override readonly name: string = 'WriterError';
}

/**
 * The write is not legal in the writer's current state (spec/STATE-MACHINES.md §6):
 * wrong order, a record the mode or guest kind never has, or a second write
 * while one is still in flight.
 */
export class WriterStateError extends WriterError {
  override readonly name = 'WriterStateError';
  constructor(
    /** State the writer was in (and still is). */
    readonly state: string,
    /** What the caller tried to write. */
    readonly attempted: string,
    /** What the writer would have accepted instead, in this state. */
    readonly allowed: readonly string[],
    /** Why, when the state alone does not say it. */
    readonly detail?: string,
  ) {
    const allowedText = allowed.length > 0 ? allowed.join(', ') : 'nothing (the stream is finished)';
    super(`cannot write ${attempted} in state ${state}${detail ? ` (${detail})` : ''}; allowed here: ${allowedText}`);
  }
}

/**
 * The write is legal here but its content breaks a rule of the format (a guard
 * of spec/STATE-MACHINES.md §6 or a body-size rule of spec/FORMAT.md §5), e.g. a PAGE_DATA
 * with no pfns or an EMULATOR_CONTEXT with emulator id 0.
 */
export class WriterGuardError extends WriterError {
  override readonly name = 'WriterGuardError';
  constructor(
    readonly state: string,
    /** The record or header being written. */
    readonly record: string,
    readonly problem: string,
    /** The format rule the content breaks (spec/RULES.md), when it is one the reader also checks. */
    readonly ruleId?: string,
  ) {
    super(`${record} refused in state ${state}: ${ruleId ? `${ruleId}: ` : ''}${problem}`);
  }
}
