/** Small formatting helpers shared by the text renderers (offsets, sizes, elided lists). */

/** 0x-prefixed hex, at least `width` digits. */
export function hex(n: number | bigint, width = 0): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

/** Absolute offsets: 8 hex digits (more when the input is bigger than 4 GiB). */
export function offsetHex(n: number): string {
  return hex(n, 8);
}

/**
 * 1234567 → "1,234,567". Integers are grouped here rather than with
 * toLocaleString, whose first call loads ICU's locale data (~10-30 ms of every
 * command's start-up); fractions, rare here, still go through it.
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}

/** Human size: "134,492,618 bytes (128.3 MiB)". */
/** n bytes (n ≥ 1024) in the largest binary unit that keeps the value ≥ 1: [value, unit]. */
export function binaryUnits(n: number): [number, string] {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return [v, units[u]];
}

export function sizeText(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const [v, unit] = binaryUnits(n);
  return `${grouped(n)} bytes (${v.toFixed(1)} ${unit})`;
}

/** The first `keep` items, then "… (+N more)": long arrays stay readable. */
export function elided<T>(
  items: { readonly length: number; slice(start?: number, end?: number): T[] },
  keep: number,
  show: (item: T) => string = String,
  separator = ' ',
): string {
  if (items.length <= keep) return items.slice().map(show).join(separator);
  return `${items.slice(0, keep).map(show).join(separator)}${separator}… (+${items.length - keep} more)`;
}

/** Bytes as printable ASCII, other bytes as '.'. */
export function asciiPreview(bytes: Uint8Array, max = 16): string {
  let s = '';
  for (let i = 0; i < Math.min(bytes.length, max); i++) s += bytes[i] >= 0x20 && bytes[i] < 0x7f ? String.fromCharCode(bytes[i]) : '.';
  return s;
}

/** Parse "4096", "0x1000": non-negative safe integers only; undefined if not a number. */
export function parseNonNegativeInteger(text: string): number | undefined {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Rows as aligned columns, each as wide as its widest cell, two spaces apart
 * (fixed widths ran together once a count outgrew them). Columns listed in
 * `rightAligned` (numbers) are padded on the left. Lines start with `indent`.
 */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, rightAligned: ReadonlySet<number>, indent = '  '): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    indent + cells.map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]) : c === cells.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ');
  return [header, ...rows].map(line);
}
