/** Escaping and number formatting for the report's HTML and SVG. */
import { binaryUnits } from '../inspect/text-format.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value, escaped. */
export function esc(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** 1234567 → "1,234,567". */
export function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** 0x-prefixed hex. */
export function hx(n: number, width = 0): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

/** Short size: "136.1 MiB", "812 B". */
export function bytesShort(n: number): string {
  if (n < 1024) return `${n} B`;
  const [v, unit] = binaryUnits(n);
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${unit}`;
}

/** Short count: 1044480 → "1.04M". */
export function countShort(n: number): string {
  if (n < 10_000) return num(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

/** A number for SVG coordinates (short, no exponent). */
export function px(n: number): string {
  return (Math.round(n * 100) / 100).toString();
}
