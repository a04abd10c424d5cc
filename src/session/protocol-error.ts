/**
 * The one error type of the session layer: every failure names the protocol
 * state it happened in, so a run can always be reported as
 * "failed in STATE: reason" (spec/PROTOCOLS.md §1.3 failure handling).
 */

/** What went wrong, independent of the state it went wrong in. */
export type ProtocolFailureKind =
  | 'unexpected-data' // a fixed message or back-channel record did not match
  | 'peer-closed' // EOF before the expected bytes arrived
  | 'timeout' // a bounded wait expired
  | 'io' // a read or write error on the transport or the capture file
  | 'bad-stream' // the migration stream failed validation
  | 'remote-failure' // the peer reported a failure (non-zero status byte)
  | 'refused' // a step-0 device hook vetoed the migration
  | 'hook-failed' // a device hook or domain action threw
  | 'aborted'; // the caller aborted the run

export interface ProtocolErrorDetails {
  /** Protocol state in which the failure was detected. */
  readonly state: string;
  readonly kind: ProtocolFailureKind;
  /** What the state was waiting for (e.g. the expected fixed message). */
  readonly expected?: string;
  /** What arrived instead (printable rendering of the bytes), if anything. */
  readonly actual?: string | undefined;
  readonly cause?: unknown;
}

export class ProtocolError extends Error {
  readonly state: string;
  readonly kind: ProtocolFailureKind;
  readonly expected?: string | undefined;
  readonly actual?: string | undefined;

  constructor(message: string, details: ProtocolErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ProtocolError';
    this.state = details.state;
    this.kind = details.kind;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** Render bytes for an error message: printable ASCII kept, the rest escaped, long input cut. */
export function describeBytes(bytes: Uint8Array, limit = 64): string {
  let out = '';
  const shown = bytes.subarray(0, limit);
  for (const byte of shown) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x22) out += '\\"';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x00) out += '\\0';
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  const more = bytes.length > limit ? `…(+${bytes.length - limit} bytes)` : '';
  return `"${out}"${more}`;
}

/** Wrap anything thrown into a ProtocolError attributed to `state`, keeping ProtocolErrors as they are. */
export function asProtocolError(error: unknown, state: string, kind: ProtocolFailureKind = 'io'): ProtocolError {
  if (error instanceof ProtocolError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProtocolError(`${message}`, { state, kind, cause: error });
}
