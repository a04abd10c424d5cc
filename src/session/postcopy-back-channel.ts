/**
 * [RFC postcopy] back channel, receiver → sender (spec/FORMAT.md §6.2, §9.3): bare
 * libxc records with no headers, POSTCOPY_FAULT* then POSTCOPY_COMPLETE,
 * followed on xl's wire by the 42-byte postcopy sync message.
 */
export const POSTCOPY_FAULT_TYPE = 0x15;
export const POSTCOPY_COMPLETE_TYPE = 0x16;

/** The 8-byte POSTCOPY_COMPLETE record (type 0x16, body length 0). */
export function encodePostcopyComplete(): Uint8Array {
  return encodeRecordHeader(POSTCOPY_COMPLETE_TYPE, 0);
}

/** A POSTCOPY_FAULT record asking for `pfns` (u32 count, u32 reserved, u64 pfn[]). */
export function encodePostcopyFault(pfns: readonly bigint[]): Uint8Array {
  const bodyLength = 8 + 8 * pfns.length;
  const out = new Uint8Array(8 + bodyLength);
  out.set(encodeRecordHeader(POSTCOPY_FAULT_TYPE, bodyLength), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, pfns.length, true);
  pfns.forEach((pfn, index) => {
    view.setBigUint64(16 + 8 * index, pfn, true);
  });
  return out;
}

export function encodeRecordHeader(type: number, bodyLength: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, bodyLength, true);
  return out;
}

/** Record framing: bodies are padded to a multiple of 8. */
export function paddedLength(bodyLength: number): number {
  return (bodyLength + 7) & ~7;
}
