/**
 * Record types of every layer and dialect, as data. Decoding, encoding, names,
 * JSON schemas and docs all read these tables; nothing else lists record types.
 * Source: spec/FORMAT.md §4.3 (libxl), §5.4 (libxc upstream), §6 (postcopy RFC).
 */

import { HVM_SAVE_ENTRY_TYPES } from './hvm-save.js';

export type Layer = 'libxl' | 'libxc';
export type Dialect = 'upstream' | 'postcopy-rfc';
export type Direction = 'forward' | 'back';

/**
 * Body layouts. Each names one body codec in src/codec/bodies; several record
 * types share a layout (e.g. every empty record).
 */
export type BodyLayout =
  | 'empty'
  | 'opaque'
  | 'page-data'
  | 'pfn-list'
  | 'pv-info'
  | 'p2m-frames'
  | 'vcpu'
  | 'shared-info'
  | 'tsc-info'
  | 'hvm-context'
  | 'hvm-params'
  | 'cpuid-policy'
  | 'msr-policy'
  | 'dirty-pfn-list'
  | 'emulator-xenstore'
  | 'emulator-context'
  | 'checkpoint-state';

export interface RecordTypeInfo {
  readonly layer: Layer;
  readonly type: number;
  /** Spec name, e.g. PAGE_DATA. */
  readonly name: string;
  /** The string Xen's C code prints for it (rec_type_to_str), for messages that match Xen's. */
  readonly cName: string;
  readonly layout: BodyLayout;
  readonly direction: Direction;
  /** Guest kinds the record is legal for (libxc domain type): undefined = any. */
  readonly guest?: 'pv' | 'hvm';
  /** Only in libxc v3 images. */
  readonly v3Only?: boolean;
  /** Deprecated / never valid in a forward stream: a reader treats it as unhandled. */
  readonly unhandled?: boolean;
  readonly doc: string;
}

function rec(
  layer: Layer,
  type: number,
  name: string,
  cName: string,
  layout: BodyLayout,
  doc: string,
  extra: Partial<Pick<RecordTypeInfo, 'direction' | 'guest' | 'v3Only' | 'unhandled'>> = {},
): RecordTypeInfo {
  return Object.freeze({ layer, type, name, cName, layout, direction: extra.direction ?? 'forward', doc, ...extra });
}

export const LIBXL_RECORD_TYPES: readonly RecordTypeInfo[] = Object.freeze([
  rec('libxl', 0x0, 'END', 'End', 'empty', 'Last record of a plain libxl stream.'),
  rec('libxl', 0x1, 'LIBXC_CONTEXT', 'Libxc context', 'empty', 'An embedded libxc stream follows immediately.'),
  rec(
    'libxl',
    0x2,
    'EMULATOR_XENSTORE_DATA',
    'Emulator xenstore data',
    'emulator-xenstore',
    'Emulator sub-header + NUL-terminated xenstore key/value pairs (HVM only).',
  ),
  rec('libxl', 0x3, 'EMULATOR_CONTEXT', 'Emulator context', 'emulator-context', "Emulator sub-header + the device model's own save blob (HVM only)."),
  rec('libxl', 0x4, 'CHECKPOINT_END', 'Checkpoint end', 'empty', 'Ends the libxl part of one Remus/COLO checkpoint.'),
  rec('libxl', 0x5, 'CHECKPOINT_STATE', 'Checkpoint state', 'checkpoint-state', 'COLO control message: u32 control_id (body_length 4).'),
]);

/** libxl types only the postcopy RFC dialect knows. */
export const LIBXL_RFC_RECORD_TYPES: readonly RecordTypeInfo[] = Object.freeze([
  rec('libxl', 0x6, 'POSTCOPY_TRANSITION_END', 'Postcopy transition end', 'empty', '[RFC] End of the libxl records of the postcopy transition; libxc resumes.'),
]);

/** libxc types shared by both dialects (0x00–0x0F). */
const LIBXC_COMMON: readonly RecordTypeInfo[] = [
  rec('libxc', 0x00, 'END', 'End', 'empty', 'Last record of a plain libxc stream.'),
  rec(
    'libxc',
    0x01,
    'PAGE_DATA',
    'Page data',
    'page-data',
    'u32 count, u32 reserved, u64 pfn[count] (type in bits 63–60), then 4096 bytes per data-bearing entry.',
  ),
  rec('libxc', 0x02, 'X86_PV_INFO', 'x86 PV info', 'pv-info', 'Guest width and page-table levels.', { guest: 'pv' }),
  rec('libxc', 0x03, 'X86_PV_P2M_FRAMES', 'x86 PV P2M frames', 'p2m-frames', 'u32 start pfn, u32 end pfn, u64 frames holding the P2M.', { guest: 'pv' }),
  rec('libxc', 0x04, 'X86_PV_VCPU_BASIC', 'x86 PV vcpu basic', 'vcpu', 'vCPU id + vcpu_guest_context.', { guest: 'pv' }),
  rec('libxc', 0x05, 'X86_PV_VCPU_EXTENDED', 'x86 PV vcpu extended', 'vcpu', 'vCPU id + extended context (≤ 128 bytes).', { guest: 'pv' }),
  rec('libxc', 0x06, 'X86_PV_VCPU_XSAVE', 'x86 PV vcpu xsave', 'vcpu', 'vCPU id + xsave state (≥ 16 bytes).', { guest: 'pv' }),
  rec('libxc', 0x07, 'SHARED_INFO', 'Shared info', 'shared-info', "The guest's 4096-byte shared_info page.", { guest: 'pv' }),
  rec('libxc', 0x08, 'X86_TSC_INFO', 'x86 TSC info', 'tsc-info', 'TSC mode, kHz, elapsed ns, incarnation.'),
  rec('libxc', 0x09, 'HVM_CONTEXT', 'HVM context', 'hvm-context', "Xen's HVM save blob (non-empty).", { guest: 'hvm' }),
  rec('libxc', 0x0a, 'HVM_PARAMS', 'HVM params', 'hvm-params', 'u32 count, u32 reserved, (u64 index, u64 value)[count].', { guest: 'hvm' }),
  rec('libxc', 0x0b, 'TOOLSTACK', 'Toolstack', 'opaque', 'Deprecated opaque toolstack blob; no reader handles it.', { unhandled: true }),
  rec('libxc', 0x0c, 'X86_PV_VCPU_MSRS', 'x86 PV vcpu msrs', 'vcpu', 'vCPU id + 16-byte MSR entries.', { guest: 'pv' }),
  rec('libxc', 0x0d, 'VERIFY', 'Verify', 'empty', 'Everything sent; what follows is a debug re-send.'),
  rec('libxc', 0x0e, 'CHECKPOINT', 'Checkpoint', 'empty', 'Consistent state reached; control passes to libxl (Remus/COLO).'),
  rec('libxc', 0x0f, 'CHECKPOINT_DIRTY_PFN_LIST', 'Checkpoint dirty pfn list', 'dirty-pfn-list', 'COLO back channel: u64 pfns dirtied on the secondary.', {
    direction: 'back',
    unhandled: true,
  }),
];

const LIBXC_UPSTREAM_ONLY: readonly RecordTypeInfo[] = [
  rec('libxc', 0x10, 'STATIC_DATA_END', 'Static data end', 'empty', 'End of static data (v3).', { v3Only: true }),
  rec('libxc', 0x11, 'X86_CPUID_POLICY', 'x86 CPUID policy', 'cpuid-policy', '24-byte xen_cpuid_leaf_t entries (v3).', { v3Only: true }),
  rec('libxc', 0x12, 'X86_MSR_POLICY', 'x86 MSR policy', 'msr-policy', '16-byte xen_msr_entry_t entries (v3).', { v3Only: true }),
];

const LIBXC_RFC_ONLY: readonly RecordTypeInfo[] = [
  rec('libxc', 0x10, 'POSTCOPY_BEGIN', 'Postcopy begin', 'empty', '[RFC] Postcopy phase begins; CPU context follows.'),
  rec('libxc', 0x11, 'POSTCOPY_PFNS_BEGIN', 'Postcopy pfns begin', 'empty', '[RFC] POSTCOPY_PFNS records follow.'),
  rec('libxc', 0x12, 'POSTCOPY_PFNS', 'Postcopy pfns', 'pfn-list', '[RFC] PAGE_DATA layout without page contents.'),
  rec('libxc', 0x13, 'POSTCOPY_TRANSITION', 'Postcopy transition', 'empty', '[RFC] libxl transition records follow.'),
  rec('libxc', 0x14, 'POSTCOPY_PAGE_DATA', 'Postcopy page data', 'page-data', '[RFC] PAGE_DATA layout; every entry has data.'),
  rec('libxc', 0x15, 'POSTCOPY_FAULT', 'Postcopy fault', 'pfn-list', '[RFC] Back channel: pfns the destination faulted on.', { direction: 'back' }),
  rec('libxc', 0x16, 'POSTCOPY_COMPLETE', 'Postcopy complete', 'empty', '[RFC] Back channel: destination has every page.', { direction: 'back' }),
];

export const LIBXC_UPSTREAM_RECORD_TYPES: readonly RecordTypeInfo[] = Object.freeze([...LIBXC_COMMON, ...LIBXC_UPSTREAM_ONLY]);
export const LIBXC_RFC_RECORD_TYPES: readonly RecordTypeInfo[] = Object.freeze([...LIBXC_COMMON, ...LIBXC_RFC_ONLY]);

/** The record-type table of one (layer, dialect). */
export interface RecordTypeTable {
  readonly layer: Layer;
  readonly dialect: Dialect;
  readonly types: readonly RecordTypeInfo[];
  lookup(type: number): RecordTypeInfo | undefined;
  byName(name: string): RecordTypeInfo | undefined;
}

function makeTable(layer: Layer, dialect: Dialect, types: readonly RecordTypeInfo[]): RecordTypeTable {
  const byType = new Map(types.map((t) => [t.type, t]));
  const byName = new Map(types.map((t) => [t.name, t]));
  // Dense array for the hot path (small type numbers).
  const dense: Array<RecordTypeInfo | undefined> = [];
  for (const t of types) dense[t.type] = t;
  return Object.freeze({
    layer,
    dialect,
    types: Object.freeze([...types]),
    lookup: (type: number) => (type < dense.length ? dense[type] : byType.get(type)),
    byName: (name: string) => byName.get(name),
  });
}

const TABLES: Record<Dialect, Record<Layer, RecordTypeTable>> = {
  upstream: {
    libxl: makeTable('libxl', 'upstream', LIBXL_RECORD_TYPES),
    libxc: makeTable('libxc', 'upstream', LIBXC_UPSTREAM_RECORD_TYPES),
  },
  'postcopy-rfc': {
    libxl: makeTable('libxl', 'postcopy-rfc', [...LIBXL_RECORD_TYPES, ...LIBXL_RFC_RECORD_TYPES]),
    libxc: makeTable('libxc', 'postcopy-rfc', LIBXC_RFC_RECORD_TYPES),
  },
};

export function recordTypeTable(layer: Layer, dialect: Dialect = 'upstream'): RecordTypeTable {
  return TABLES[dialect][layer];
}

export function isOptionalType(type: number): boolean {
  return (type & 0x80000000) !== 0;
}

/** Name for messages: the table's name, or RESERVED_0x… / OPTIONAL_0x… for unknown types. */
export function recordTypeName(layer: Layer, type: number, dialect: Dialect = 'upstream'): string {
  const info = TABLES[dialect][layer].lookup(type);
  if (info) return info.name;
  return `${isOptionalType(type) ? 'OPTIONAL' : 'RESERVED'}_0x${type.toString(16).padStart(8, '0')}`;
}

/** HVM param index names (public/hvm/params.h), for the inspector. */
export const HVM_PARAM_NAMES: Readonly<Record<number, string>> = {
  0: 'CALLBACK_IRQ',
  1: 'STORE_PFN',
  2: 'STORE_EVTCHN',
  4: 'PAE_ENABLED',
  5: 'IOREQ_PFN',
  6: 'BUFIOREQ_PFN',
  9: 'VIRIDIAN',
  10: 'TIMER_MODE',
  11: 'HPET_ENABLED',
  12: 'IDENT_PT',
  13: 'DM_DOMAIN',
  14: 'ACPI_S_STATE',
  15: 'VM86_TSS',
  16: 'VPT_ALIGN',
  17: 'CONSOLE_PFN',
  18: 'CONSOLE_EVTCHN',
  19: 'ACPI_IOPORTS_LOCATION',
  20: 'MEMORY_EVENT_CR0',
  21: 'MEMORY_EVENT_CR3',
  22: 'MEMORY_EVENT_CR4',
  23: 'MEMORY_EVENT_INT3',
  24: 'NESTEDHVM',
  25: 'MEMORY_EVENT_SINGLE_STEP',
  26: 'BUFIOREQ_EVTCHN',
  27: 'PAGING_RING_PFN',
  28: 'MONITOR_RING_PFN',
  29: 'SHARING_RING_PFN',
  30: 'MEMORY_EVENT_MSR',
  31: 'TRIPLE_FAULT_REASON',
  32: 'IOREQ_SERVER_PFN',
  33: 'NR_IOREQ_SERVER_PAGES',
  34: 'VM_GENERATION_ID_ADDR',
  35: 'ALTP2M',
  36: 'X87_FIP_WIDTH',
  37: 'VM86_TSS_SIZED',
  38: 'MCA_CAP',
};

/** HVM save-record typecodes inside HVM_CONTEXT (public/hvm/save.h); their layouts are in hvm-save.ts. */
export const HVM_SAVE_TYPECODES: Readonly<Record<number, string>> = Object.freeze(Object.fromEntries(HVM_SAVE_ENTRY_TYPES.map((t) => [t.typecode, t.name])));
