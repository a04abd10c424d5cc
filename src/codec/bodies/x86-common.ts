/** Bodies of both guest kinds: X86_TSC_INFO, HVM_CONTEXT, HVM_PARAMS, CPUID/MSR policy, dirty pfn list. */
import type { Static } from '@sinclair/typebox';
import type { CpuidPolicyJson, MsrPolicyJson, DirtyPfnListJson, OpaqueJson } from '../json-schemas.js';
import { dataView, fromBase64, toBase64, u64FromJson, u64ToJson } from '../bytes.js';
import { formatError } from '../errors.js';
import type { BodyCodec } from './body-codec.js';
import { type FixedBody, fixedBodyCodec } from './fixed-body.js';
import { X86_TSC_INFO } from '../../format/layouts/x86-tsc-info.js';
import { encodeLayoutList, encodeU64List, layoutList, PackedList, packedBytes, u64List, type EntryList } from './entry-list.js';
import type { Layout, LayoutJson, LayoutValue } from '../../format/layout.js';
import { HVM_PARAMS_ENTRY, HVM_PARAMS_HEAD } from '../../format/layouts/x86-hvm-params.js';
import { U64_ENTRY } from '../../format/layouts/u64-list.js';
import { layoutCodec } from '../layout-codec.js';
import { XEN_CPUID_LEAF, XEN_MSR_ENTRY } from '../../format/layouts/x86-policy.js';
import type { OpaqueBody } from './simple.js';

// X86_TSC_INFO: its fields are in src/format/layouts/x86-tsc-info.ts.
export type TscInfoBody = FixedBody<'tsc-info', typeof X86_TSC_INFO>;

export const tscInfoCodec = fixedBodyCodec('tsc-info', X86_TSC_INFO, 'TSC_INFO_LENGTH');

// HVM_CONTEXT: Xen's save blob, non-empty.
export const hvmContextCodec: BodyCodec<OpaqueBody, Static<typeof OpaqueJson>> = {
  layout: 'hvm-context',
  decode(bytes, at) {
    if (bytes.length === 0) throw formatError('HVM_CONTEXT_EMPTY', at, { expected: '> 0 bytes', actual: 0 });
    return { kind: 'opaque', data: bytes };
  },
  encodedLength: (b) => b.data.length,
  encode: (b) => [b.data],
  toJson: (b) => ({ kind: 'opaque', data: toBase64(b.data) }),
  fromJson: (j) => ({ kind: 'opaque', data: fromBase64(j.data) }),
};

/** One entry of the HVM save blob: {u16 typecode, u16 instance, u32 length} + data (spec/FORMAT.md §5.10). */
export interface HvmSaveEntry {
  typecode: number;
  instance: number;
  offset: number;
  data: Uint8Array;
}

/**
 * Walk the entries of an HVM_CONTEXT blob, for the inspector. Stops at the END
 * entry or where an entry would run past the blob (returned as `truncatedAt`).
 */
export function hvmContextEntries(blob: Uint8Array): { entries: HvmSaveEntry[]; truncatedAt?: number } {
  const dv = dataView(blob);
  const entries: HvmSaveEntry[] = [];
  let off = 0;
  while (off + 8 <= blob.length) {
    const typecode = dv.getUint16(off, true);
    const instance = dv.getUint16(off + 2, true);
    const length = dv.getUint32(off + 4, true);
    if (off + 8 + length > blob.length) return { entries, truncatedAt: off };
    entries.push({ typecode, instance, offset: off, data: blob.subarray(off + 8, off + 8 + length) });
    off += 8 + length;
    if (typecode === 0) return { entries };
  }
  return off === blob.length ? { entries } : { entries, truncatedAt: off };
}

// HVM_PARAMS: the head and entry in src/format/layouts/x86-hvm-params.ts (count is the list's length).
export type HvmParamEntry = LayoutValue<typeof HVM_PARAMS_ENTRY>;
export interface HvmParamsBody {
  kind: 'hvm-params';
  reserved: number;
  params: EntryList<HvmParamEntry>;
}

const paramsHead = layoutCodec(HVM_PARAMS_HEAD);
const paramEntry = layoutCodec(HVM_PARAMS_ENTRY);

export type HvmParamsJsonForm = { kind: 'hvm-params'; reserved: number; params: LayoutJson<typeof HVM_PARAMS_ENTRY>[] };

export const hvmParamsCodec: BodyCodec<HvmParamsBody, HvmParamsJsonForm> = {
  layout: 'hvm-params',
  table: HVM_PARAMS_HEAD,
  decode(bytes, at) {
    if (bytes.length < paramsHead.size) throw formatError('HVM_PARAMS_SHORT', at, { expected: `≥ ${paramsHead.size} bytes`, actual: bytes.length });
    const { count, reserved } = paramsHead.decode(bytes);
    const expected = paramsHead.size + paramEntry.size * count;
    if (bytes.length !== expected) throw formatError('HVM_PARAMS_LENGTH', at, { expected: `8 + 16×${count} = ${expected}`, actual: bytes.length });
    return { kind: 'hvm-params', reserved, params: layoutList(HVM_PARAMS_ENTRY, bytes.subarray(paramsHead.size), count) };
  },
  encodedLength: (b) => paramsHead.size + paramEntry.size * b.params.length,
  encode: (b) => [paramsHead.encode({ count: b.params.length, reserved: b.reserved }), encodeLayoutList(HVM_PARAMS_ENTRY, b.params)],
  toJson: (b) => ({ kind: 'hvm-params', reserved: b.reserved, params: b.params.map((p) => paramEntry.toJson(p)) }),
  fromJson: (j) => ({ kind: 'hvm-params', reserved: j.reserved, params: j.params.map((p) => paramEntry.fromJson(p)) }),
};

// X86_CPUID_POLICY: xen_cpuid_leaf_t[], X86_MSR_POLICY: xen_msr_entry_t[] (src/format/layouts/x86-policy.ts).
export type CpuidLeaf = LayoutValue<typeof XEN_CPUID_LEAF>;
export interface CpuidPolicyBody {
  kind: 'cpuid-policy';
  leaves: EntryList<CpuidLeaf>;
}

export type MsrEntry = LayoutValue<typeof XEN_MSR_ENTRY>;
export interface MsrPolicyBody {
  kind: 'msr-policy';
  entries: EntryList<MsrEntry>;
}

/** A body that is an array of one layout: decoded lazily, encoded back from the same bytes when unedited. */
function layoutArray<T extends object>(layout: Layout, bytes: Uint8Array): PackedList<T> {
  const c = layoutCodec(layout);
  return new PackedList(bytes, bytes.length / layout.size, (i) => c.decode(bytes, i * layout.size) as T);
}

function encodeLayoutArray<T extends object>(layout: Layout, list: EntryList<T>): Uint8Array[] {
  const packed = packedBytes(list);
  if (packed) return [packed];
  const c = layoutCodec(layout);
  const out = new Uint8Array(layout.size * list.length);
  list.forEach((e, i) => {
    c.encodeInto(e as never, out, i * layout.size);
  });
  return [out];
}

export const cpuidPolicyCodec: BodyCodec<CpuidPolicyBody, Static<typeof CpuidPolicyJson>> = {
  layout: 'cpuid-policy',
  decode(bytes, at) {
    if (bytes.length === 0 || bytes.length % XEN_CPUID_LEAF.size !== 0)
      throw formatError('CPUID_POLICY_LENGTH', at, { expected: 'a non-zero multiple of 24', actual: bytes.length });
    return { kind: 'cpuid-policy', leaves: layoutArray<CpuidLeaf>(XEN_CPUID_LEAF, bytes) };
  },
  encodedLength: (b) => XEN_CPUID_LEAF.size * b.leaves.length,
  encode: (b) => encodeLayoutArray(XEN_CPUID_LEAF, b.leaves),
  toJson: (b) => ({ kind: 'cpuid-policy', leaves: b.leaves.map((l) => layoutCodec(XEN_CPUID_LEAF).toJson(l)) }),
  fromJson: (j) => ({ kind: 'cpuid-policy', leaves: j.leaves.map((l) => layoutCodec(XEN_CPUID_LEAF).fromJson(l)) }),
};

export const msrPolicyCodec: BodyCodec<MsrPolicyBody, Static<typeof MsrPolicyJson>> = {
  layout: 'msr-policy',
  decode(bytes, at) {
    if (bytes.length === 0 || bytes.length % XEN_MSR_ENTRY.size !== 0)
      throw formatError('MSR_POLICY_LENGTH', at, { expected: 'a non-zero multiple of 16', actual: bytes.length });
    return { kind: 'msr-policy', entries: layoutArray<MsrEntry>(XEN_MSR_ENTRY, bytes) };
  },
  encodedLength: (b) => XEN_MSR_ENTRY.size * b.entries.length,
  encode: (b) => encodeLayoutArray(XEN_MSR_ENTRY, b.entries),
  toJson: (b) => ({ kind: 'msr-policy', entries: b.entries.map((e) => layoutCodec(XEN_MSR_ENTRY).toJson(e)) }),
  fromJson: (j) => ({ kind: 'msr-policy', entries: j.entries.map((e) => layoutCodec(XEN_MSR_ENTRY).fromJson(e)) }),
};

// CHECKPOINT_DIRTY_PFN_LIST (COLO back channel): u64 pfn[], may be empty.
export interface DirtyPfnListBody {
  kind: 'dirty-pfn-list';
  pfns: EntryList<bigint>;
}

export const dirtyPfnListCodec: BodyCodec<DirtyPfnListBody, Static<typeof DirtyPfnListJson>> = {
  layout: 'dirty-pfn-list',
  decode(bytes, at) {
    if (bytes.length % U64_ENTRY.size !== 0) throw formatError('DIRTY_PFN_LIST_LENGTH', at, { expected: 'a multiple of 8', actual: bytes.length });
    return { kind: 'dirty-pfn-list', pfns: u64List(bytes) };
  },
  encodedLength: (b) => U64_ENTRY.size * b.pfns.length,
  encode: (b) => [encodeU64List(b.pfns)],
  toJson: (b) => ({ kind: 'dirty-pfn-list', pfns: b.pfns.map((p) => u64ToJson(p)) }),
  fromJson: (j) => ({ kind: 'dirty-pfn-list', pfns: j.pfns.map(u64FromJson) }),
};
