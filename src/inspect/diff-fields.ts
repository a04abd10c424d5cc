/**
 * Field-level differences between two decoded records: their parts
 * (src/codec/machine/parts.ts) paired by key and walked with their layouts,
 * or, for a record without parts, its JSON form compared key by key.
 * Flag fields say which named bits changed ("avx512f present in A, absent in B").
 */
import { isBytesField, isStructField, type Layout, type PlacedField, type ScalarField } from '../format/layout.js';
import { walkLayout } from '../codec/layout-codec.js';
import type { RecordPart } from '../codec/machine/parts.js';
import { scalarText } from './layout-text.js';
import { grouped } from './text-format.js';

export interface FieldDifference {
  /** e.g. `CPUID 0x7.0 ebx`, `HVM CPU[0].cr3`, `body.params[3].value`. */
  path: string;
  /** The values in words (absent: the field or part exists on one side only). */
  a?: string;
  b?: string;
  /** A sentence when the change is better said in words (named bits, byte strings). */
  text: string;
}

type Leaf = { field: PlacedField; value: unknown };

function leaves(layout: Layout, value: object): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  walkLayout(layout, value, ({ path, field, value: v, index }) => {
    if (field.padding) return false;
    if (index !== undefined || isStructField(field)) return undefined;
    out.set(path, { field, value: v });
    return undefined;
  });
  return out;
}

function bitsChanged(f: ScalarField, a: number | bigint, b: number | bigint): string | undefined {
  if (!f.bits) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  const said: string[] = [];
  for (let bit = 0n; (x | y) >> bit; bit++) {
    const inA = (x >> bit) & 1n;
    const inB = (y >> bit) & 1n;
    if (inA === inB) continue;
    const name = f.bits[Number(bit)] ?? `bit ${bit}`;
    said.push(`${name} ${inA ? 'present in A, absent in B' : 'absent in A, present in B'}`);
  }
  return said.join('; ');
}

function bytesChanged(a: Uint8Array, b: Uint8Array): string | undefined {
  if (a.length === b.length && Buffer.compare(a, b) === 0) return undefined;
  let first = 0;
  while (first < a.length && first < b.length && a[first] === b[first]) first++;
  let count = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) count++;
  const lengths = a.length === b.length ? `${grouped(count)} of ${grouped(a.length)} bytes differ` : `${grouped(a.length)} bytes → ${grouped(b.length)} bytes`;
  return `${lengths}, first at +${first}`;
}

function joinPath(key: string, path: string): string {
  return key ? `${key}${path.startsWith('[') ? '' : key.endsWith(']') ? '.' : ' '}${path}` : path;
}

function scalarDiff(key: string, path: string, f: ScalarField, a: unknown, b: unknown, out: FieldDifference[]): void {
  const as = Array.isArray(a) ? a : [a];
  const bs = Array.isArray(b) ? b : [b];
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const x = as[i] as number | bigint;
    const y = bs[i] as number | bigint;
    if (x === y) continue;
    const p = joinPath(key, Array.isArray(a) ? `${path}[${i}]` : path);
    const ta = scalarText(f, x);
    const tb = scalarText(f, y);
    out.push({ path: p, a: ta, b: tb, text: bitsChanged(f, x, y) ?? `${ta} → ${tb}` });
  }
}

/** Differences between two versions of one part (same key). */
export function partDifferences(key: string, a: RecordPart, b: RecordPart, out: FieldDifference[]): void {
  const la = leaves(a.layout, a.value);
  const lb = leaves(b.layout, b.value);
  for (const [path, x] of la) {
    const y = lb.get(path);
    if (!y) {
      out.push({ path: joinPath(key, path), text: 'only in A' });
      continue;
    }
    if (isBytesField(x.field)) {
      const said = bytesChanged(x.value as Uint8Array, y.value as Uint8Array);
      if (said) out.push({ path: joinPath(key, path), text: said });
    } else scalarDiff(key, path, x.field as ScalarField, x.value, y.value, out);
  }
  for (const path of lb.keys()) if (!la.has(path)) out.push({ path: joinPath(key, path), text: 'only in B' });
}

/** Parts paired by key (the nth part of a key with the nth), then compared. */
export function partsDifferences(a: readonly RecordPart[], b: readonly RecordPart[], out: FieldDifference[]): void {
  const byKey = (parts: readonly RecordPart[]) => {
    const m = new Map<string, RecordPart[]>();
    for (const p of parts) m.set(p.key, [...(m.get(p.key) ?? []), p]);
    return m;
  };
  const ma = byKey(a);
  const mb = byKey(b);
  for (const [key, xs] of ma) {
    const ys = mb.get(key) ?? [];
    xs.forEach((x, i) => {
      const y = ys[i];
      if (y) partDifferences(key, x, y, out);
      else out.push({ path: key, text: 'only in A' });
    });
    for (let i = xs.length; i < ys.length; i++) out.push({ path: key, text: 'only in B' });
  }
  for (const [key, ys] of mb) if (!ma.has(key)) for (const _ of ys) out.push({ path: key, text: 'only in B' });
}

function jsonText(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** Two JSON values compared leaf by leaf (arrays by index); long strings say only how they differ. */
export function jsonDifferences(path: string, a: unknown, b: unknown, out: FieldDifference[]): void {
  if (a === b) return;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys =
      Array.isArray(a) && Array.isArray(b) ? [...Array(Math.max(a.length, b.length)).keys()].map(String) : [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const p = Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
      const x = (a as Record<string, unknown>)[k];
      const y = (b as Record<string, unknown>)[k];
      if (x === undefined) out.push({ path: p, b: jsonText(y), text: `only in B: ${jsonText(y)}` });
      else if (y === undefined) out.push({ path: p, a: jsonText(x), text: `only in A: ${jsonText(x)}` });
      else jsonDifferences(p, x, y, out);
    }
    return;
  }
  if (typeof a === 'string' && typeof b === 'string' && (a.length > 60 || b.length > 60)) {
    let first = 0;
    while (first < a.length && a[first] === b[first]) first++;
    out.push({ path, text: `differ (${grouped(a.length)} → ${grouped(b.length)} characters, first difference at character ${first})` });
    return;
  }
  out.push({ path, a: jsonText(a), b: jsonText(b), text: `${jsonText(a)} → ${jsonText(b)}` });
}
