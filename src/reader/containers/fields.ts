/** Small helpers the wrapper formats share (their fixed headers are layout tables in src/format/layouts/). */
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
