import type { Layout } from '../../format/layout.js';
import type { BodyLayout, RecordTypeInfo } from '../../format/record-types.js';
import type { DecodeContext } from '../errors.js';

/**
 * One body layout: bytes <-> value <-> JSON. Decoding returns views into the
 * input (no copies); encoding returns chunks that may be views of the value's
 * own buffers, so a writer can hand them to writev untouched. The JSON form's
 * schema is in ../json-schemas.ts, keyed by the same layout (TypeBox is only
 * loaded by code that validates JSON).
 */
export interface BodyCodec<B, J> {
  readonly layout: BodyLayout;
  /** The layout table of a fixed body (its reserved fields are checked by the reader and the writer alike). */
  readonly table?: Layout;
  /** `bytes` is exactly the body (body_length bytes, no padding). `at.offset` is its absolute offset. */
  decode(bytes: Uint8Array, at: DecodeContext, info: RecordTypeInfo | undefined): B;
  encodedLength(body: B): number;
  encode(body: B): Uint8Array[];
  toJson(body: B): J;
  fromJson(json: J): B;
}
