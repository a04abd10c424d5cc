/**
 * Everything a fixed layout (src/format/layout.ts) needs at run time, derived
 * from its table once and cached: decode (bytes fields stay views of the
 * input), encode, JSON both ways, the reserved-field check the reader and the
 * writer share, and a field walk for renderings. Closures, not generated
 * source: no eval, and the cost per field is one DataView access.
 */

import {
  isBytesField,
  isStructField,
  type BytesField,
  type Layout,
  type LayoutJson,
  type LayoutValue,
  type PlacedField,
  type ScalarField,
  type ScalarType,
} from '../format/layout.js';
import type { RuleKey } from '../format/rules.js';
import { dataView, fromBase64, fromHex, toBase64, toHex } from './bytes.js';
import { EncodeError } from './errors.js';

type Value = Record<string, unknown>;

/** A reserved field that is not zero: the rule, where (path and byte offset inside the layout) and what. */
export interface ReservedViolation {
  readonly rule: RuleKey;
  readonly path: string;
  readonly offset: number;
  readonly value: number | bigint | Uint8Array;
}

/** A reserved field's value for a message: hex for integers, a byte count for byte strings. */
export function reservedValueText(v: number | bigint | Uint8Array): string {
  if (v instanceof Uint8Array) return `${v.filter((b) => b !== 0).length} non-zero of ${v.length} bytes`;
  return `0x${v.toString(16)}`;
}

/** One field met by walkLayout: its path, table entry, value and byte offset inside the walked layout. */
export interface LayoutVisit {
  readonly path: string;
  readonly field: PlacedField;
  readonly value: unknown;
  readonly offset: number;
  /** Nesting depth (0 for the layout's own fields). */
  readonly depth: number;
  /** Set for one element of an array of structs (visited before its fields). */
  readonly index?: number;
}

interface ScalarCodec {
  readonly size: number;
  read(dv: DataView, off: number): number | bigint;
  write(dv: DataView, off: number, v: number | bigint, path: string): void;
  toJson(v: number | bigint): number | string;
  fromJson(j: number | string): number | bigint;
  isZero(v: number | bigint): boolean;
}

function intCodec(size: 1 | 2 | 4, signed: boolean): ScalarCodec {
  const min = signed ? -(2 ** (8 * size - 1)) : 0;
  const max = signed ? 2 ** (8 * size - 1) - 1 : 2 ** (8 * size) - 1;
  const get = signed
    ? [undefined, DataView.prototype.getInt8, DataView.prototype.getInt16, undefined, DataView.prototype.getInt32][size]
    : [undefined, DataView.prototype.getUint8, DataView.prototype.getUint16, undefined, DataView.prototype.getUint32][size];
  const set = signed
    ? [undefined, DataView.prototype.setInt8, DataView.prototype.setInt16, undefined, DataView.prototype.setInt32][size]
    : [undefined, DataView.prototype.setUint8, DataView.prototype.setUint16, undefined, DataView.prototype.setUint32][size];
  const getter = get as (this: DataView, off: number, le?: boolean) => number;
  const setter = set as (this: DataView, off: number, v: number, le?: boolean) => void;
  return {
    size,
    read: (dv, off) => getter.call(dv, off, true),
    write(dv, off, v, path) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        throw new EncodeError(`${path}: ${String(v)} is not an integer in ${min}..${max}`);
      setter.call(dv, off, v, true);
    },
    toJson: (v) => v as number,
    fromJson: (j) => j as number,
    isZero: (v) => v === 0,
  };
}

function int64Codec(signed: boolean): ScalarCodec {
  const min = signed ? -(2n ** 63n) : 0n;
  const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  return {
    size: 8,
    read: (dv, off) => (signed ? dv.getBigInt64(off, true) : dv.getBigUint64(off, true)),
    write(dv, off, v, path) {
      if (typeof v !== 'bigint' || v < min || v > max) throw new EncodeError(`${path}: ${String(v)} is not a bigint in ${min}..${max}`);
      if (signed) dv.setBigInt64(off, v, true);
      else dv.setBigUint64(off, v, true);
    },
    toJson: (v) => (signed ? (v as bigint).toString(10) : `0x${(v as bigint).toString(16)}`),
    fromJson: (j) => BigInt(j),
    isZero: (v) => v === 0n,
  };
}

const SCALARS: Readonly<Record<ScalarType, ScalarCodec>> = {
  u8: intCodec(1, false),
  u16: intCodec(2, false),
  u32: intCodec(4, false),
  u64: int64Codec(false),
  i8: intCodec(1, true),
  i16: intCodec(2, true),
  i32: intCodec(4, true),
  i64: int64Codec(true),
};

function bytesToJson(f: BytesField, v: Uint8Array): string {
  if (f.json === 'base64') return toBase64(v);
  if (f.json === 'latin1') return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
  return toHex(v);
}

function bytesFromJson(f: BytesField, j: string): Uint8Array {
  if (f.json === 'base64') return fromBase64(j);
  if (f.json === 'latin1') return new Uint8Array(Buffer.from(j, 'latin1'));
  return fromHex(j);
}

/** The compiled form of one layout. */
export interface LayoutCodec<L extends Layout> {
  readonly layout: L;
  readonly size: number;
  /** Decode `layout.size` bytes at `offset` of `bytes` (the caller has checked the length). */
  decode(bytes: Uint8Array, offset?: number): LayoutValue<L>;
  encode(value: LayoutValue<L>): Uint8Array;
  /** Write the value's bytes into `target` at `offset`. */
  encodeInto(value: LayoutValue<L>, target: Uint8Array, offset?: number): void;
  toJson(value: LayoutValue<L>): LayoutJson<L>;
  fromJson(json: LayoutJson<L>): LayoutValue<L>;
  /** Reserved fields that are not zero, in table order (empty when the value is clean). */
  reservedViolations(value: LayoutValue<L>): ReservedViolation[];
}

interface FieldOps {
  read(dv: DataView, u8: Uint8Array, base: number): unknown;
  write(dv: DataView, u8: Uint8Array, base: number, v: unknown, path: string): void;
  toJson(v: unknown): unknown;
  fromJson(j: unknown): unknown;
}

function repeat(count: number | undefined, stride: number, one: FieldOps): FieldOps {
  if (count === undefined) return one;
  return {
    read: (dv, u8, base) => {
      const out = new Array<unknown>(count);
      for (let i = 0; i < count; i++) out[i] = one.read(dv, u8, base + i * stride);
      return out;
    },
    write: (dv, u8, base, v, path) => {
      if (!Array.isArray(v) || v.length !== count) throw new EncodeError(`${path}: expected an array of ${count}`);
      for (let i = 0; i < count; i++) one.write(dv, u8, base + i * stride, v[i], `${path}[${i}]`);
    },
    toJson: (v) => (v as unknown[]).map((x) => one.toJson(x)),
    fromJson: (j) => (j as unknown[]).map((x) => one.fromJson(x)),
  };
}

function fieldOps(f: PlacedField): FieldOps {
  if (isBytesField(f)) {
    return {
      read: (_dv, u8, base) => u8.subarray(base, base + f.size),
      write: (_dv, u8, base, v, path) => {
        if (!(v instanceof Uint8Array) || v.length !== f.size) throw new EncodeError(`${path}: expected ${f.size} bytes`);
        u8.set(v, base);
      },
      toJson: (v) => bytesToJson(f, v as Uint8Array),
      fromJson: (j) => bytesFromJson(f, j as string),
    };
  }
  if (isStructField(f)) {
    const sub = compiled(f.type);
    const one: FieldOps = {
      read: (dv, u8, base) => sub.readAt(dv, u8, base),
      write: (dv, u8, base, v, path) => sub.writeAt(dv, u8, base, v as Value, path),
      toJson: (v) => sub.toJson(v as Value),
      fromJson: (j) => sub.fromJson(j as Value),
    };
    return repeat(f.count, f.type.size, one);
  }
  const s = SCALARS[(f as ScalarField).type];
  const one: FieldOps = {
    read: (dv, _u8, base) => s.read(dv, base),
    write: (dv, _u8, base, v, path) => s.write(dv, base, v as number | bigint, path),
    toJson: (v) => s.toJson(v as number | bigint),
    fromJson: (j) => s.fromJson(j as number | string),
  };
  return repeat((f as ScalarField).count, s.size, one);
}

interface Compiled {
  readAt(dv: DataView, u8: Uint8Array, base: number): Value;
  writeAt(dv: DataView, u8: Uint8Array, base: number, v: Value, path: string): void;
  toJson(v: Value): Value;
  fromJson(j: Value): Value;
}

const cache = new WeakMap<Layout, Compiled>();

function compiled(layout: Layout): Compiled {
  let c = cache.get(layout);
  if (c) return c;
  const ops = layout.fields.map((f) => ({ name: f.name, offset: f.offset, ops: fieldOps(f) }));
  c = {
    readAt(dv, u8, base) {
      const v: Value = {};
      for (const o of ops) v[o.name] = o.ops.read(dv, u8, base + o.offset);
      return v;
    },
    writeAt(dv, u8, base, v, path) {
      if (v === null || typeof v !== 'object') throw new EncodeError(`${path || layout.name}: expected an object`);
      for (const o of ops) o.ops.write(dv, u8, base + o.offset, v[o.name], path ? `${path}.${o.name}` : o.name);
    },
    toJson(v) {
      const j: Value = {};
      for (const o of ops) j[o.name] = o.ops.toJson(v[o.name]);
      return j;
    },
    fromJson(j) {
      const v: Value = {};
      for (const o of ops) v[o.name] = o.ops.fromJson(j[o.name]);
      return v;
    },
  };
  cache.set(layout, c);
  return c;
}

function isZeroValue(v: unknown): boolean {
  if (typeof v === 'number') return v === 0;
  if (typeof v === 'bigint') return v === 0n;
  if (v instanceof Uint8Array) return v.every((b) => b === 0);
  if (Array.isArray(v)) return v.every(isZeroValue);
  return Object.values(v as Value).every(isZeroValue);
}

/**
 * Visit every field of a decoded value in table order, descending into
 * structs (and arrays of structs); `visit` returning false skips a struct's
 * insides.
 */
export function walkLayout(layout: Layout, value: object, visit: (v: LayoutVisit) => boolean | undefined, prefix = '', base = 0, depth = 0): void {
  for (const f of layout.fields) {
    const path = prefix ? `${prefix}.${f.name}` : f.name;
    const v = (value as Value)[f.name];
    if (visit({ path, field: f, value: v, offset: base + f.offset, depth }) === false) continue;
    if (!isStructField(f)) continue;
    if (f.count === undefined) {
      walkLayout(f.type, v as Value, visit, path, base + f.offset, depth + 1);
      continue;
    }
    (v as Value[]).forEach((item, i) => {
      const at = base + f.offset + i * f.type.size;
      const itemPath = `${path}[${i}]`;
      if (visit({ path: itemPath, field: f, value: item, offset: at, depth: depth + 1, index: i }) !== false)
        walkLayout(f.type, item, visit, itemPath, at, depth + 2);
    });
  }
}

const codecs = new WeakMap<Layout, LayoutCodec<Layout>>();

/** The codec of a layout (built on first use, then shared). */
export function layoutCodec<L extends Layout>(layout: L): LayoutCodec<L> {
  const known = codecs.get(layout);
  if (known) return known as unknown as LayoutCodec<L>;
  const c = compiled(layout);
  const codec: LayoutCodec<L> = {
    layout,
    size: layout.size,
    decode(bytes, offset = 0) {
      if (offset < 0 || bytes.length - offset < layout.size)
        throw new RangeError(`${layout.name}: ${layout.size} bytes needed at ${offset}, ${bytes.length - offset} left`);
      return c.readAt(dataView(bytes), bytes, offset) as LayoutValue<L>;
    },
    encode(value) {
      const out = new Uint8Array(layout.size);
      c.writeAt(dataView(out), out, 0, value as Value, '');
      return out;
    },
    encodeInto(value, target, offset = 0) {
      if (offset < 0 || target.length - offset < layout.size) throw new RangeError(`${layout.name}: ${layout.size} bytes needed at ${offset}`);
      c.writeAt(dataView(target), target, offset, value as Value, '');
    },
    toJson: (value) => c.toJson(value as Value) as LayoutJson<L>,
    fromJson: (json) => c.fromJson(json as Value) as LayoutValue<L>,
    reservedViolations(value) {
      const out: ReservedViolation[] = [];
      walkLayout(layout, value, ({ path, field, value: v, offset, index }) => {
        if (index === undefined && field.reserved && !isZeroValue(v))
          out.push({ rule: field.reserved, path, offset, value: v as number | bigint | Uint8Array });
        return undefined;
      });
      return out;
    },
  };
  codecs.set(layout, codec as unknown as LayoutCodec<Layout>);
  return codec;
}
