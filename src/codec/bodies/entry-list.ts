/**
 * The entries of a list body (xenstore pairs, MSR/CPUID policy entries, HVM
 * params, P2M frames, dirty pfns). Decoding keeps the record's bytes and reads
 * an entry only when asked, so a record of millions of tiny entries costs its
 * bytes (plus at most 4 bytes per variable-size entry), not millions of
 * objects; encoding a decoded list hands back the same bytes. Bodies built in
 * code (or from JSON) use plain arrays: both fit EntryList.
 */

import type { Layout, LayoutValue } from '../../format/layout.js';
import { layoutCodec } from '../layout-codec.js';

/** What consumers of a list body may use: the part of ReadonlyArray both forms have. */
export interface EntryList<T> {
  readonly length: number;
  at(index: number): T | undefined;
  slice(start?: number, end?: number): T[];
  map<U>(f: (value: T, index: number) => U): U[];
  forEach(f: (value: T, index: number) => void): void;
  [Symbol.iterator](): Iterator<T>;
}

/** A decoded list: `bytes` are exactly the entries as they were in the record. */
export class PackedList<T> implements EntryList<T> {
  constructor(
    readonly bytes: Uint8Array,
    readonly length: number,
    private readonly read: (index: number) => T,
  ) {}

  at(index: number): T | undefined {
    const i = index < 0 ? index + this.length : index;
    return i >= 0 && i < this.length ? this.read(i) : undefined;
  }

  slice(start = 0, end = this.length): T[] {
    const from = Math.max(0, start < 0 ? start + this.length : start);
    const to = Math.min(this.length, end < 0 ? end + this.length : end);
    const out: T[] = [];
    for (let i = from; i < to; i++) out.push(this.read(i));
    return out;
  }

  map<U>(f: (value: T, index: number) => U): U[] {
    const out = new Array<U>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = f(this.read(i), i);
    return out;
  }

  forEach(f: (value: T, index: number) => void): void {
    for (let i = 0; i < this.length; i++) f(this.read(i), i);
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.read(i);
  }
}

/** The bytes of a decoded list, or undefined for a list built in code. */
export function packedBytes<T>(list: EntryList<T>): Uint8Array | undefined {
  return list instanceof PackedList ? list.bytes : undefined;
}

/** A list a body can keep: a decoded list as it is (its bytes are immutable views), anything else copied. */
export function ownedList<T>(list: EntryList<T>): EntryList<T> {
  return list instanceof PackedList ? list : [...(list as Iterable<T>)];
}

/** A decoded list of u64s (P2M frames, dirty pfns): `bytes` holds exactly the entries. */
export function u64List(bytes: Uint8Array): PackedList<bigint> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return new PackedList(bytes, bytes.length / 8, (i) => dv.getBigUint64(8 * i, true));
}

/** The bytes of a u64 list: a decoded one's own bytes, or the values encoded. */
export function encodeU64List(list: EntryList<bigint>): Uint8Array {
  const packed = packedBytes(list);
  if (packed) return packed;
  const out = new Uint8Array(8 * list.length);
  const dv = new DataView(out.buffer);
  list.forEach((v, i) => {
    dv.setBigUint64(8 * i, v, true);
  });
  return out;
}

/** A decoded list of `count` fixed entries laid out as `table` (each decoded only when asked). */
export function layoutList<L extends Layout>(table: L, bytes: Uint8Array, count: number): PackedList<LayoutValue<L>> {
  const c = layoutCodec(table);
  return new PackedList(bytes, count, (i) => c.decode(bytes, i * table.size));
}

/** The bytes of a list of `table` entries: a decoded one's own bytes, or the values encoded. */
export function encodeLayoutList<L extends Layout>(table: L, list: EntryList<LayoutValue<L>>): Uint8Array {
  const packed = packedBytes(list);
  if (packed) return packed;
  const c = layoutCodec(table);
  const out = new Uint8Array(table.size * list.length);
  list.forEach((v, i) => {
    c.encodeInto(v, out, i * table.size);
  });
  return out;
}
