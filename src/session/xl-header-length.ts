/**
 * Where the xl save-file header ends (spec/FORMAT.md §3): 48 bytes plus
 * `optional_data_len`, a u32 in the saving host's order, which the
 * `byteorder` field (0x01020304) reveals. The sender needs only this
 * boundary, to run the step-1 device hooks right after the header, as xend
 * did after writing its signature.
 */
const XL_MAGIC = Buffer.from('58656e20736176656420646f6d61696e2c20786c20666f726d61740a2000200d', 'hex');

export const XL_FIXED_HEADER_LENGTH = 48;

/**
 * Given at least the first 48 bytes of a stream, return the xl header length,
 * or 0 when the stream does not start with an xl header (a bare libxl stream).
 */
export function xlHeaderLength(head: Uint8Array): number {
  if (head.length < XL_FIXED_HEADER_LENGTH) return 0;
  if (!Buffer.from(head.buffer, head.byteOffset, XL_MAGIC.length).equals(XL_MAGIC)) return 0;
  const view = new DataView(head.buffer, head.byteOffset, XL_FIXED_HEADER_LENGTH);
  const littleEndian = view.getUint32(32, true) === 0x01020304;
  return XL_FIXED_HEADER_LENGTH + view.getUint32(44, littleEndian);
}
