/**
 * Checks of one body or header value that need nothing but the value (and,
 * for PV records, the guest width): reserved fields from the layout tables,
 * and the value rules of spec/FORMAT.md §4–5. The reader reports each problem
 * at its offset (src/reader/record-checks.ts); the writer refuses a write with
 * the same rule id (src/writer/stream-writer.ts). One check, two users: a
 * stream the writer produces is one the strict reader accepts.
 */
import type { Layout } from '../format/layout.js';
import { LIBXC_DOMAIN_HEADER, LIBXC_IMAGE_HEADER, LIBXL_HEADER, XL_HEADER } from '../format/layouts/stream-headers.js';
import { X86_PV_INFO } from '../format/layouts/x86-pv-info.js';
import { PAGE_DATA_HEAD } from '../format/layouts/page-data.js';
import { isStructField, layoutField, type ScalarField } from '../format/layout.js';
import type { BodyLayout } from '../format/record-types.js';
import type { RuleKey } from '../format/rules.js';
import { layoutCodec, reservedValueText } from './layout-codec.js';
import { BODY_CODECS, type RecordBody } from './records.js';
import type { CheckpointStateBody, EmulatorContextBody, EmulatorXenstoreBody } from './bodies/libxl.js';
import type { PageDataBody } from './bodies/page-data.js';
import { p2mFrameCount, VCPU_BASIC_SIZE, type P2mFramesBody, type PvInfoBody, type VcpuBody } from './bodies/x86-pv.js';

/** A rule a value breaks, where (byte offset inside the body or header) and what was found. */
export interface BodyProblem {
  readonly rule: RuleKey;
  readonly offset: number;
  readonly expected?: string | number;
  readonly actual?: string | number;
  readonly detail?: string;
}

const NONE: readonly BodyProblem[] = Object.freeze([]);

/** A table's top-level reserved fields, when it has no nested structs (then a clean value is told in a few reads). */
const flatReserved = new WeakMap<Layout, readonly ScalarField[] | null>();

function flatReservedFields(table: Layout): readonly ScalarField[] | null {
  let r = flatReserved.get(table);
  if (r === undefined) {
    r = table.fields.some((f) => isStructField(f)) ? null : (table.fields.filter((f) => f.reserved !== undefined) as ScalarField[]);
    flatReserved.set(table, r);
  }
  return r;
}

function isClean(f: ScalarField, v: unknown): boolean {
  if (typeof v === 'number') return f.reservedBits === undefined ? v === 0 : (v & f.reservedBits) === 0;
  if (typeof v === 'bigint') return v === 0n;
  return false; // bytes and arrays: let the full walk decide
}

/** A layout's reserved fields that are not zero: at most one problem per rule, in table order. */
export function layoutReservedProblems(table: Layout, value: object): readonly BodyProblem[] {
  // Hot path (every PAGE_DATA record): a flat table whose reserved scalars are zero needs no walk.
  const flat = flatReservedFields(table);
  if (flat?.every((f) => isClean(f, (value as Record<string, unknown>)[f.name]))) return NONE;
  const seen = new Set<RuleKey>();
  const out: BodyProblem[] = [];
  for (const v of layoutCodec(table).reservedViolations(value as never)) {
    if (seen.has(v.rule)) continue;
    seen.add(v.rule);
    const mask = (layoutField(table, v.path.split(/[.[]/)[0]) as ScalarField).reservedBits;
    const what = mask === undefined ? 'must be zero' : `bits 0x${mask.toString(16)} must be zero`;
    out.push({ rule: v.rule, offset: v.offset, actual: reservedValueText(v.value), detail: `${table.name}.${v.path} ${what}.` });
  }
  return out;
}

/** The reserved fields of a body whose codec has a table (fixed body or fixed head). */
export function reservedFieldProblems(body: RecordBody): readonly BodyProblem[] {
  const table = BODY_CODECS[body.kind as BodyLayout]?.table;
  return table ? layoutReservedProblems(table, body) : NONE;
}

const HEADER_TABLES = {
  'xl-header': XL_HEADER,
  'libxl-header': LIBXL_HEADER,
  'libxc-image-header': LIBXC_IMAGE_HEADER,
  'libxc-domain-header': LIBXC_DOMAIN_HEADER,
} as const;

/** A stream header's reserved fields and bits (from its table). */
export function headerProblems(kind: keyof typeof HEADER_TABLES, header: object): readonly BodyProblem[] {
  return layoutReservedProblems(HEADER_TABLES[kind], header);
}

const PV_INFO_SIZE = X86_PV_INFO.size;

/** X86_PV_INFO: no extra bytes, a legal (width, levels) pair, zero reserved bytes. */
export function pvInfoProblems(b: PvInfoBody): BodyProblem[] {
  const out: BodyProblem[] = [];
  if (b.extra) out.push({ rule: 'PV_INFO_EXTRA', offset: 0, expected: PV_INFO_SIZE, actual: PV_INFO_SIZE + b.extra.length });
  if (!((b.guestWidth === 4 && b.ptLevels === 3) || (b.guestWidth === 8 && b.ptLevels === 4)))
    out.push({ rule: 'PV_INFO_WIDTH', offset: 0, expected: '(4,3) or (8,4)', actual: `(${b.guestWidth},${b.ptLevels})` });
  return out.concat(reservedFieldProblems(b));
}

/** X86_PV_P2M_FRAMES: exactly the frames its pfn range needs for a guest of this width. */
export function p2mFramesProblems(b: P2mFramesBody, guestWidth: number): BodyProblem[] {
  const k = p2mFrameCount(b.startPfn, b.endPfn, guestWidth);
  if (b.frames.length === k) return [];
  return [
    {
      rule: 'P2M_LENGTH',
      offset: 0,
      expected: `${k} frames (${8 + 8 * k} bytes) for pfns ${b.startPfn}..${b.endPfn}`,
      actual: `${b.frames.length} frames`,
    },
  ];
}

const PFN_ARRAY_AT = PAGE_DATA_HEAD.size;

/** PAGE_DATA: reserved word and pfn bits zero; pfns within the P2M when one was sent. */
export function pageDataProblems(b: PageDataBody, p2mEndPfn: number | undefined): readonly BodyProblem[] {
  const reserved = reservedFieldProblems(b);
  if (reserved === NONE && !b.pfnReservedBits && p2mEndPfn === undefined) return NONE;
  const out = [...reserved];
  if (b.pfnReservedBits) {
    const i = b.pfnReservedBits.findIndex((x) => x !== 0);
    if (i >= 0) out.push({ rule: 'PAGE_DATA_PFN_RESERVED', offset: PFN_ARRAY_AT + 8 * i, actual: `0x${b.pfnReservedBits[i].toString(16)} in pfn[${i}]` });
  }
  if (p2mEndPfn !== undefined) {
    // A plain loop, not findIndex(): a callback per pfn is slow until optimised, and most walks end before that.
    let i = 0;
    while (i < b.pfns.length && b.pfns[i] <= p2mEndPfn) i++;
    if (i < b.pfns.length)
      out.push({
        rule: 'PAGE_DATA_PFN_RANGE',
        offset: PFN_ARRAY_AT + 8 * i,
        expected: `pfn ≤ ${p2mEndPfn}`,
        actual: `0x${b.pfns[i].toString(16)} (index ${i})`,
      });
  }
  return out;
}

/** vCPU records: reserved word zero; the context's size as the record type and guest width require (empty tolerated). */
export function vcpuProblems(name: string, b: VcpuBody, guestWidth: number): BodyProblem[] {
  const out: BodyProblem[] = [];
  if (b.reserved) out.push({ rule: 'VCPU_RESERVED', offset: 4, actual: b.reserved });
  const n = b.context.length;
  if (n === 0) return out; // tolerated (Xen 4.6–4.8 senders)
  const bad = (expected: string) => out.push({ rule: 'VCPU_SIZE', offset: 0, expected, actual: `${n} bytes of context` });
  const basic = VCPU_BASIC_SIZE[guestWidth as 4 | 8];
  if (name === 'X86_PV_VCPU_BASIC' && n !== basic) bad(`${basic} bytes for a ${guestWidth * 8}-bit guest`);
  else if (name === 'X86_PV_VCPU_EXTENDED' && n > 128) bad('≤ 128 bytes');
  else if (name === 'X86_PV_VCPU_XSAVE' && n < 16) bad('≥ 16 bytes');
  else if (name === 'X86_PV_VCPU_MSRS' && n % 16 !== 0) bad('a multiple of 16 bytes');
  return out;
}

/** CHECKPOINT_STATE on the forward stream: just the u32, and it is 0 (CHECKPOINT_NEW). */
export function checkpointStateProblems(b: CheckpointStateBody): BodyProblem[] {
  const out: BodyProblem[] = [];
  if (b.extra) out.push({ rule: 'CHECKPOINT_STATE_EXTRA', offset: 0, expected: 4, actual: 4 + b.extra.length });
  if (b.controlId !== 0) out.push({ rule: 'CHECKPOINT_STATE_ID', offset: 0, expected: '0 (CHECKPOINT_NEW)', actual: b.controlId });
  return out;
}

/** Emulator records: a known emulator id (0 unknown, 1 traditional, 2 upstream). */
export function emulatorProblems(b: EmulatorXenstoreBody | EmulatorContextBody): BodyProblem[] {
  return b.emulatorId > 2 ? [{ rule: 'EMULATOR_ID', offset: 0, expected: '0, 1 or 2', actual: b.emulatorId }] : [];
}

/** One xenstore pair as EMULATOR_XENSTORE_DATA carries it: a non-empty relative key, neither with a NUL inside. */
export function xenstorePairProblems(key: string, value: string): BodyProblem[] {
  if (key.length === 0) return [{ rule: 'XENSTORE_KEY_EMPTY', offset: 0 }];
  if (key.includes('\0')) return [{ rule: 'XENSTORE_KEY_NUL', offset: 0, actual: JSON.stringify(key), detail: 'the key holds a NUL' }];
  if (key.startsWith('/')) return [{ rule: 'XENSTORE_KEY_ABSOLUTE', offset: 0, expected: 'a relative key', actual: JSON.stringify(key) }];
  if (value.includes('\0')) return [{ rule: 'XENSTORE_VALUE_NUL', offset: 0, detail: `the value of ${JSON.stringify(key)} holds a NUL` }];
  return [];
}
