/**
 * A structure decoded with its layout table, remembering how many bytes it
 * came from: Xen zero-extends some short entries (LAPIC, VIRIDIAN_*, VMCE_VCPU,
 * CPU), so a value may describe more bytes than the stream holds. Encoding
 * gives back exactly that many bytes.
 */
import type { Layout } from '../../format/layout.js';
import { isAllZero } from '../bytes.js';
import { EncodeError } from '../errors.js';
import { layoutCodec } from '../layout-codec.js';

export interface DecodedStruct {
  readonly layout: Layout;
  readonly value: object;
  /** Bytes in the stream (≤ layout.size; less when Xen reads the rest as zeros). */
  readonly length: number;
}

export function decodeStruct(layout: Layout, data: Uint8Array): DecodedStruct {
  if (data.length > layout.size) throw new RangeError(`${layout.name}: ${data.length} bytes, more than its ${layout.size}`);
  let bytes = data;
  if (data.length < layout.size) {
    bytes = new Uint8Array(layout.size);
    bytes.set(data);
  }
  return { layout, value: layoutCodec(layout).decode(bytes), length: data.length };
}

/** The struct's `length` bytes; a non-zero byte past them (an edit a short entry cannot hold) is refused. */
export function encodeStruct(d: DecodedStruct): Uint8Array {
  const full = layoutCodec(d.layout).encode(d.value as never);
  if (d.length === full.length) return full;
  if (!isAllZero(full.subarray(d.length)))
    throw new EncodeError(`${d.layout.name}: the entry holds ${d.length} of ${full.length} bytes; a field past them is not zero`);
  return full.subarray(0, d.length);
}
