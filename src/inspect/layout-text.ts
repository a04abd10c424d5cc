/**
 * A decoded layout value in words, for `dump`: one aligned `name  value` line
 * per scalar, enum values and flag bits named, units shown, padding hidden,
 * structs indented, long scalar arrays and all-zero byte fields elided.
 * Everything it knows about a field comes from the layout table.
 */
import { isBytesField, isStructField, type Layout, type PlacedField, type ScalarField } from '../format/layout.js';
import { walkLayout } from '../codec/layout-codec.js';
import { toHex } from '../codec/bytes.js';
import { hex } from './text-format.js';

export interface LayoutTextOptions {
  /** Leading spaces of every line. */
  indent?: string;
  /** Elements of a scalar array shown before eliding (default 8). */
  keep?: number;
  /** Hide fields whose value is zero (reserved fields are always hidden when zero). */
  hideZero?: boolean;
  /**
   * Each element of an array of structs on one line (`[3] vector 0x30, mask 0x1 [masked]`), and a run
   * of elements identical to the one before it as one line (`[4–47] same as [3]`); with hideZero,
   * all-zero elements are left out.
   */
  compactArrays?: boolean;
}

/** One struct value's non-padding fields on one line: `name value, name value`. */
function inlineText(layout: Layout, value: object, keep: number, hideZero: boolean): string {
  const parts: string[] = [];
  walkLayout(layout, value, ({ field, value: v, path }) => {
    if (field.padding) return false;
    if (isStructField(field)) return undefined;
    if (hideZero && isZero(v)) return false;
    parts.push(`${path} ${valueText(field, v, keep)}`);
    return undefined;
  });
  return parts.join(', ');
}

function isZero(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(isZero);
  return v === 0 || v === 0n || (v instanceof Uint8Array && v.every((b) => b === 0));
}

function flagNames(v: number | bigint, bits: Readonly<Record<number, string>>): string {
  const names: string[] = [];
  let rest = BigInt(v);
  for (const [bit, name] of Object.entries(bits)) {
    const mask = 1n << BigInt(bit);
    if (rest & mask) {
      names.push(name);
      rest &= ~mask;
    }
  }
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.length ? ` [${names.join(' ')}]` : '';
}

/** One scalar in words: hex or decimal as the table says, enum name, flag names, unit (unless `withUnit` is false). */
export function scalarText(f: ScalarField, v: number | bigint, withUnit = true): string {
  const asHex = f.show === 'hex' || (f.show === undefined && (f.type === 'u64' || f.bits !== undefined));
  let text = asHex && v >= 0 ? hex(v) : String(v);
  if (f.values) text += ` (${f.values[Number(v)] ?? 'unknown'})`;
  if (f.bits) text += flagNames(v, f.bits);
  if (f.unit && withUnit) text += ` ${f.unit}`;
  return text;
}

function bytesText(bytes: Uint8Array, printable: boolean): string {
  if (bytes.every((b) => b === 0)) return `(${bytes.length} zero bytes)`;
  if (printable) {
    const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').replace(/\0+$/, '');
    if (/^[\x20-\x7e]*$/.test(s)) return JSON.stringify(s);
  }
  return bytes.length <= 32 ? toHex(bytes) : `${toHex(bytes.subarray(0, 32))}… (${bytes.length} bytes)`;
}

function valueText(f: PlacedField, v: unknown, keep: number): string {
  if (isBytesField(f)) return bytesText(v as Uint8Array, f.text === true);
  const sf = f as ScalarField;
  if (sf.count === undefined) return scalarText(sf, v as number | bigint);
  const items = v as Array<number | bigint>;
  if (items.every((x) => x === 0 || x === 0n)) return `(${items.length} × 0)`;
  const shown = items.slice(0, keep).map((x) => scalarText(sf, x, false));
  return `[${shown.join(', ')}${items.length > keep ? `, … ${items.length - keep} more` : ''}]${sf.unit ? ` ${sf.unit}` : ''}`;
}

/** Lines describing `value`, decoded with `layout`. */
export function layoutText(layout: Layout, value: object, options: LayoutTextOptions = {}): string[] {
  const indent = options.indent ?? '';
  const keep = options.keep ?? 8;
  const rows: Array<{ depth: number; name: string; text: string }> = [];
  let run: { path: string; text: string; first: number; last: number; depth: number } | undefined;
  const endRun = () => {
    if (run && run.last > run.first)
      rows.push({ depth: run.depth, name: run.first + 1 === run.last ? `[${run.last}]` : `[${run.first + 1}–${run.last}]`, text: `same as [${run.first}]` });
    run = undefined;
  };
  walkLayout(layout, value, ({ field, value: v, depth, path, index }) => {
    if (field.padding) return false;
    if (index !== undefined && options.compactArrays && isStructField(field)) {
      const text = inlineText(field.type, v as object, keep, options.hideZero === true) || '(zero)';
      const arrayPath = path.slice(0, path.lastIndexOf('['));
      if (run && run.path === arrayPath && run.text === text && run.last === index - 1) {
        run.last = index;
        return false;
      }
      endRun();
      if (options.hideZero && isZero(Object.values(v as object))) return false;
      run = { path: arrayPath, text, first: index, last: index, depth };
      rows.push({ depth, name: `[${index}]`, text });
      return false;
    }
    endRun();
    if (index !== undefined) {
      rows.push({ depth, name: `[${index}]`, text: '' });
      return undefined;
    }
    const name = path.slice(path.lastIndexOf('.') + 1);
    if (isStructField(field)) {
      rows.push({ depth, name, text: '' });
      return undefined;
    }
    if (isZero(v) && (field.reserved !== undefined || options.hideZero)) return false;
    rows.push({ depth, name, text: valueText(field, v, keep) });
    return undefined;
  });
  endRun();
  const width = Math.max(0, ...rows.map((r) => 2 * r.depth + r.name.length));
  return rows.map((r) => {
    const label = `${'  '.repeat(r.depth)}${r.name}`;
    return r.text === '' ? `${indent}${label}:` : `${indent}${label.padEnd(width)}  ${r.text}`;
  });
}

/**
 * `value` on one line, `name value` per field in table order (reserved fields
 * only when not zero, padding never): the summary of a fixed body, so that a
 * field added to its table shows up without a second edit.
 */
export function layoutSummary(layout: Layout, value: object, keep = 8): string {
  const parts: string[] = [];
  for (const f of layout.fields) {
    const v = (value as Record<string, unknown>)[f.name];
    if (f.padding || isStructField(f)) continue;
    const zero = v === 0 || v === 0n || (v instanceof Uint8Array && v.every((b) => b === 0));
    if (zero && f.reserved !== undefined) continue;
    parts.push(`${f.name} ${valueText(f, v, keep)}`);
  }
  return parts.join(', ');
}
