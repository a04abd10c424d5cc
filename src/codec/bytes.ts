/** Small helpers over Uint8Array views. Nothing here copies unless its name says so. */

/** A DataView over exactly the bytes of `u8`, wherever it sits in its ArrayBuffer. */
export function dataView(u8: Uint8Array): DataView {
  return new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Little-endian u64 at `off` as a bigint (for values that may exceed 2^53). */
export function getU64(dv: DataView, off: number): bigint {
  return dv.getBigUint64(off, true);
}

export function isAllZero(u8: Uint8Array): boolean {
  for (let i = 0; i < u8.length; i++) if (u8[i] !== 0) return false;
  return true;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A copy of `u8[start, end)`, never a view. Not `u8.slice()`: on a Node Buffer
 * (a socket's chunk, the receiver's recycled ring) slice() is a view of the
 * same memory, which the next read may overwrite.
 */
export function copyBytes(u8: Uint8Array, start = 0, end = u8.length): Uint8Array {
  return new Uint8Array(u8.subarray(start, end));
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

export function toHex(u8: Uint8Array): string {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex');
}

export function toBase64(u8: Uint8Array): string {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('base64');
}

export function fromBase64(s: string): Uint8Array {
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function fromHex(s: string): Uint8Array {
  const b = Buffer.from(s, 'hex');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** u64 as JSON: a 0x-prefixed hex string (JSON has no 64-bit integers). */
export function u64ToJson(v: bigint): string {
  return `0x${v.toString(16)}`;
}

export function u64FromJson(s: string): bigint {
  return BigInt(s);
}
