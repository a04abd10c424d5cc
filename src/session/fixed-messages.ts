/**
 * The fixed control messages of `xl migrate` ⇄ `xl migrate-receive`
 * (spec/PROTOCOLS.md §1.2). They are compared byte-for-byte on the wire, so they
 * are kept here as exact byte arrays, not as strings to be re-encoded later.
 */
import { XL_MIGRATE_GO_MESSAGE, XL_POSTCOPY_SYNC_MESSAGE } from '../format/constants.js';

export interface FixedMessage {
  /** Short name used in states, errors and logs. */
  readonly name: 'banner' | 'ready' | 'go' | 'permission' | 'report' | 'postcopy-sync';
  /** The exact bytes on the wire. */
  readonly bytes: Uint8Array;
}

const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
const withNul = (text: string): Uint8Array => ascii(`${text}\0`);

/** Receiver → sender, first thing on the wire: 54 bytes, newline, no NUL (xl sends `sizeof - 1`). */
export const BANNER: FixedMessage = {
  name: 'banner',
  bytes: ascii('xl migration receiver ready, send binary domain data.\n'),
};

/** Receiver → sender after the whole stream arrived: 33 characters + NUL = 34 bytes. */
export const READY: FixedMessage = { name: 'ready', bytes: withNul('domain received, ready to unpause') };

/** Sender → receiver, the point of no return: 43 characters + NUL = 44 bytes (the format's own constant). */
export const GO: FixedMessage = { name: 'go', bytes: ascii(XL_MIGRATE_GO_MESSAGE) };

/** Receiver → sender after a failed start: the same 44 bytes as GO, meaning "you may resume". */
export const PERMISSION: FixedMessage = { name: 'permission', bytes: ascii(XL_MIGRATE_GO_MESSAGE) };

/** Receiver → sender: 38 characters + NUL = 39 bytes, always followed by one status byte. */
export const REPORT: FixedMessage = { name: 'report', bytes: withNul('my copy unpause results are as follows') };

/** [RFC postcopy] receiver → sender after the postcopy phase: 41 characters + NUL = 42 bytes. */
export const POSTCOPY_SYNC: FixedMessage = {
  name: 'postcopy-sync',
  bytes: ascii(XL_POSTCOPY_SYNC_MESSAGE),
};

/** Status byte after REPORT meaning "my copy is running". Anything else is `(char)(-rc)`. */
export const REPORT_STATUS_OK = 0;

/** xl's encoding of a negative libxl return code into the status byte. */
export function reportStatusFromRc(rc: number): number {
  return -rc & 0xff;
}
