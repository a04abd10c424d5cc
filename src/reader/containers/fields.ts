/**
 * Little-endian header fields as data (name, offset, width): the wrapper
 * headers (libvirt, XenServer) are read and described from these tables.
 * (Small and fixed; when src/format/layout.ts lands they move to its tables.)
 */
export interface HeaderField {
  readonly name: string;
  readonly offset: number;
  readonly width: 4 | 8;
}

/** Read every field of `table` from `bytes` (which holds at least the header). u64 as bigint. */
export function readFields(table: readonly HeaderField[], bytes: Uint8Array): Record<string, number | bigint> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, number | bigint> = {};
  for (const f of table) out[f.name] = f.width === 4 ? dv.getUint32(f.offset, true) : dv.getBigUint64(f.offset, true);
  return out;
}

/** `bytes` starts with `magic`. */
export function startsWithBytes(bytes: Uint8Array, magic: Uint8Array): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** Bytes as text if they are printable UTF-8 (trailing NULs dropped), else undefined. */
export function textOf(bytes: Uint8Array): string | undefined {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is looked for
  return s.includes('\uFFFD') || /[\x00-\x08\x0e-\x1f]/.test(s) ? undefined : s;
}
