/**
 * The layout-table language: every fixed-size structure of the stream (record
 * bodies, headers, HVM save entries, vCPU contexts, …) is written once, as a
 * list of fields, in the spirit of Xen's libxc.py format strings. The codec
 * (src/codec/layout-codec.ts) derives decode, encode, JSON, reserved-field
 * checks and the field walk the inspector renders from that list; the JSON
 * schema is derived in src/codec/layout-schema.ts. Nothing here runs code on
 * bytes: this file is data and its placement arithmetic only.
 *
 * Byte order is little-endian throughout (the stream refuses big-endian).
 * C structs' implicit padding is written out as `padding` fields, so that the
 * table's offsets are the bytes' offsets and a decode → encode keeps every byte.
 */

import type { RuleKey } from './rules.js';

export type ScalarType = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64';

export const SCALAR_SIZES: Readonly<Record<ScalarType, number>> = Object.freeze({ u8: 1, u16: 2, u32: 4, u64: 8, i8: 1, i16: 2, i32: 4, i64: 8 });

interface FieldBase {
  /** The value's key, in JSON too; C structs keep their C names so users can match save.h. */
  readonly name: string;
  readonly doc?: string;
  /** Unit shown after the value (e.g. 'kHz', 'ns', 'pfn'). */
  readonly unit?: string;
  /** Must be zero; the rule broken when not (shared by the reader's check and the writer's guard). */
  readonly reserved?: RuleKey;
  /** Compiler padding: kept for byte fidelity, hidden from renderings. */
  readonly padding?: boolean;
}

export interface ScalarField extends FieldBase {
  readonly type: ScalarType;
  /** An array of this many scalars. */
  readonly count?: number;
  /** Names of enumerated values. */
  readonly values?: Readonly<Record<number, string>>;
  /** Names of flag bits (bit number → name). */
  readonly bits?: Readonly<Record<number, string>>;
  /** How text renderings show it (default: hex for u64 and flags, decimal otherwise). */
  readonly show?: 'hex' | 'dec';
}

export interface BytesField extends FieldBase {
  readonly type: 'bytes';
  readonly size: number;
  /** JSON form: hex (default), base64, or latin1 text (one char per byte, round-trips any byte). */
  readonly json?: 'hex' | 'base64' | 'latin1';
  /** Text renderings show printable bytes as a string (e.g. a CPU vendor, an ident). */
  readonly text?: boolean;
}

export interface StructField extends FieldBase {
  // biome-ignore lint/suspicious/noExplicitAny: any nested layout; its value type is derived through LayoutValue
  readonly type: Layout<any>;
  readonly count?: number;
}

export type FieldDef = ScalarField | BytesField | StructField;

/** A field with its position: what the codec compiles. */
export type PlacedField = FieldDef & { readonly offset: number; readonly size: number };

export interface Layout<Fs extends readonly FieldDef[] = readonly FieldDef[]> {
  /** Name for messages and renderings, e.g. 'X86_TSC_INFO' or 'hvm_hw_cpu'. */
  readonly name: string;
  readonly size: number;
  readonly fields: readonly PlacedField[];
  readonly doc?: string;
  /** Type-level only (never set): the field list the value and JSON types are derived from. */
  readonly __fields?: Fs;
}

type ScalarValue<T> = T extends 'u64' | 'i64' ? bigint : number;
type ScalarJson<T> = T extends 'u64' | 'i64' ? string : number;
type Many<F, V> = F extends { readonly count: number } ? V[] : V;

type FieldValue<F> = F extends { readonly type: Layout<infer S> }
  ? Many<F, LayoutValue<Layout<S>>>
  : F extends { readonly type: 'bytes' }
    ? Uint8Array
    : F extends { readonly type: infer T extends ScalarType }
      ? Many<F, ScalarValue<T>>
      : never;

type FieldJson<F> = F extends { readonly type: Layout<infer S> }
  ? Many<F, LayoutJson<Layout<S>>>
  : F extends { readonly type: 'bytes' }
    ? string
    : F extends { readonly type: infer T extends ScalarType }
      ? Many<F, ScalarJson<T>>
      : never;

/** The decoded value of a layout: u64/i64 as bigint, other integers as number, bytes as a view. */
export type LayoutValue<L> = L extends Layout<infer Fs> ? { -readonly [F in Fs[number] as F['name']]: FieldValue<F> } : never;

/** The JSON form of a layout: u64 as a 0x-hex string, i64 as a decimal string, bytes as text (hex by default). */
export type LayoutJson<L> = L extends Layout<infer Fs> ? { -readonly [F in Fs[number] as F['name']]: FieldJson<F> } : never;

export function isScalarField(f: FieldDef): f is ScalarField {
  return typeof f.type === 'string' && f.type !== 'bytes';
}

export function isBytesField(f: FieldDef): f is BytesField {
  return f.type === 'bytes';
}

export function isStructField(f: FieldDef): f is StructField {
  return typeof f.type === 'object';
}

function fieldSize(f: FieldDef): number {
  if (isBytesField(f)) return f.size;
  const one = isStructField(f) ? f.type.size : SCALAR_SIZES[f.type];
  return one * (f.count ?? 1);
}

/**
 * Place fields one after another. `size`, when given, is the C sizeof the
 * table must add up to: a mismatch is a bug in the table, caught at load.
 */
export function defineLayout<const Fs extends readonly FieldDef[]>(name: string, fields: Fs, options: { size?: number; doc?: string } = {}): Layout<Fs> {
  const placed: PlacedField[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const f of fields) {
    if (seen.has(f.name)) throw new Error(`layout ${name}: field ${f.name} twice`);
    seen.add(f.name);
    const size = fieldSize(f);
    placed.push(Object.freeze({ ...f, offset, size }));
    offset += size;
  }
  if (options.size !== undefined && options.size !== offset) throw new Error(`layout ${name}: fields add up to ${offset} bytes, expected ${options.size}`);
  return Object.freeze({ name, size: offset, fields: Object.freeze(placed), ...(options.doc !== undefined ? { doc: options.doc } : {}) });
}

/** The field of `layout` named `name` (for code that needs one offset, e.g. a check's error position). */
export function layoutField(layout: Layout, name: string): PlacedField {
  const f = layout.fields.find((x) => x.name === name);
  if (!f) throw new Error(`layout ${layout.name} has no field ${name}`);
  return f;
}
