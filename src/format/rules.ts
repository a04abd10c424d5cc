/**
 * Every rule the codec and reader enforce, with a stable id. Errors carry the
 * id; spec/RULES.md documents each one and names the tests that exercise it.
 *
 * severity:
 *  - error:   always fatal (Xen's C reader refuses it too, or the bytes cannot be framed);
 *  - strict:  fatal in strict mode (the default, like Xen's verifier), a warning in lenient mode
 *             (Xen's C reader accepts it);
 *  - warning: never fatal, always reported;
 *  - note:    informational.
 * source: C = Xen's C readers, VFY = Xen's Python verifier, RFC = postcopy RFC reader,
 *         project = this project's own rule (no Xen reader checks it).
 */
export type RuleSeverity = 'error' | 'strict' | 'warning' | 'note';
export type RuleSource = 'C' | 'VFY' | 'C+VFY' | 'RFC' | 'project';

export interface RuleInfo {
  readonly id: string;
  readonly severity: RuleSeverity;
  readonly source: RuleSource;
  readonly text: string;
}

// Frozen: the table is shared by every reader, so no caller may change a rule's severity under it.
const R = (id: string, severity: RuleSeverity, source: RuleSource, text: string): RuleInfo => Object.freeze({ id, severity, source, text });

export const RULES = Object.freeze({
  // Container and framing
  NOT_V2: R('STREAM-NOT-V2', 'error', 'project', 'Input is not a v2 migration stream (xl save file, libxl or libxc stream).'),
  TRUNCATED: R('STREAM-TRUNCATED', 'error', 'C+VFY', "The input ends inside a header or record, or before the stream's end."),
  COMPRESSED_CORRUPT: R('STREAM-COMPRESSED-CORRUPT', 'error', 'project', 'The compressed input (gzip, zstd, xz, bzip2, lz4) is corrupt.'),
  TRAILING_BYTES: R('STREAM-TRAILING-BYTES', 'strict', 'project', 'Bytes follow the final END record.'),
  TRAILING_GO_MESSAGE: R('STREAM-TRAILING-GO-MESSAGE', 'note', 'project', "The bytes after END are xl migrate's go message (a capture of the wire)."),
  RECORD_TOO_LONG: R('RECORD-LENGTH-MAX', 'error', 'C', "Record body_length exceeds the reader's limit (default REC_LENGTH_MAX, 128 MiB)."),
  PADDING_NONZERO: R('RECORD-PADDING-NONZERO', 'strict', 'VFY', 'Record padding bytes must be zero.'),
  BIG_ENDIAN: R('STREAM-BIG-ENDIAN', 'error', 'C+VFY', 'Big-endian streams cannot be handled.'),
  DIALECT_HINT: R('STREAM-DIALECT', 'error', 'project', 'The stream looks like another dialect than the one selected.'),
  LEGACY: R(
    'LEGACY-STREAM',
    'error',
    'C',
    'A legacy (pre-Xen-4.6) stream that cannot be read or converted: unknown chunk, malformed extended info, tmem or Remus-compressed pages, …',
  ),

  // xl save-file header
  XL_MAGIC: R('XL-MAGIC', 'error', 'C+VFY', 'xl header magic must be "Xen saved domain, xl format\\n \\0 \\r".'),
  XL_BYTEORDER: R('XL-BYTEORDER', 'error', 'C', 'xl header byteorder must read 0x01020304.'),
  XL_MANDATORY_FLAGS: R('XL-MANDATORY-FLAGS', 'error', 'C', 'xl mandatory_flags may only have bits 0 (JSON) and 1 (STREAMv2).'),
  XL_LEGACY: R(
    'XL-LEGACY-STREAM',
    'error',
    'project',
    'xl STREAMv2 flag clear: a legacy v1 stream follows (explained by dump, converted by convert-legacy, not read as v2).',
  ),
  XL_OPTIONAL_DATA_TOO_LONG: R(
    'XL-OPTIONAL-DATA-MAX',
    'error',
    'project',
    "xl optional_data_len exceeds the reader's limit (default 16 MiB, XL_OPTIONAL_DATA_MAX).",
  ),
  XL_CONFIG_TRUNCATED: R('XL-CONFIG-TRUNCATED', 'error', 'C', 'config_len does not fit in the xl optional data ("Savefile truncated.").'),
  XL_OPTIONAL_FLAGS: R('XL-OPTIONAL-FLAGS', 'warning', 'project', 'xl optional_flags is non-zero (xl never checks it).'),
  XL_JSON_FLAG: R('XL-JSON-FLAG', 'warning', 'project', 'xl JSON flag does not match the presence of a config.'),

  // Wrappers around a stream (src/reader/containers)
  LIBVIRT_HEADER: R(
    'LIBVIRT-HEADER',
    'error',
    'project',
    "libvirt save image header: version 1 or 2, and an XML length from 1 to the reader's limit (libvirt refuses a newer version and xmlLen ≤ 0).",
  ),
  XENSERVER_SECTION: R(
    'XENSERVER-SECTION',
    'error',
    'project',
    "XenServer suspend image section: a known type this toolkit reads, no longer than the reader's limit (xenopsd refuses unknown types).",
  ),

  // libxl header and records
  LIBXL_IDENT: R('LIBXL-IDENT', 'error', 'C+VFY', 'libxl header ident must be "LibxlFmt".'),
  LIBXL_VERSION: R('LIBXL-VERSION', 'error', 'C+VFY', 'libxl header version must be 2.'),
  LIBXL_OPTIONS_RESERVED: R('LIBXL-OPTIONS-RESERVED', 'strict', 'VFY', 'libxl header options bits 2–31 are reserved (zero).'),
  LIBXL_UNKNOWN_TYPE: R('LIBXL-UNKNOWN-TYPE', 'error', 'C+VFY', 'Unrecognised libxl record type.'),
  LIBXL_FIRST_RECORD: R('LIBXL-FIRST-RECORD', 'strict', 'project', 'The first libxl record must be LIBXC_CONTEXT.'),
  LIBXL_UNEXPECTED_RECORD: R('LIBXL-UNEXPECTED-RECORD', 'error', 'C', 'libxl record not legal at this point of the stream.'),
  LIBXL_EMPTY_BODY: R('LIBXL-EMPTY-BODY', 'strict', 'VFY', 'END, LIBXC_CONTEXT, CHECKPOINT_END and POSTCOPY_TRANSITION_END have no body.'),
  EMULATOR_SHORT: R('LIBXL-EMULATOR-SHORT', 'error', 'C+VFY', 'Emulator records need an 8-byte sub-header.'),
  EMULATOR_ID: R('LIBXL-EMULATOR-ID', 'strict', 'VFY', 'emulator_id must be 0, 1 or 2.'),
  EMULATOR_NOT_HVM: R('LIBXL-EMULATOR-NOT-HVM', 'error', 'C', 'Emulator records are only legal for HVM guests.'),
  XENSTORE_KEY_NUL: R('LIBXL-XENSTORE-KEY-NUL', 'error', 'C', 'Key in xenstore data not NUL terminated.'),
  XENSTORE_KEY_EMPTY: R('LIBXL-XENSTORE-KEY-EMPTY', 'error', 'C', 'Empty key in xenstore data.'),
  XENSTORE_KEY_ABSOLUTE: R('LIBXL-XENSTORE-KEY-ABSOLUTE', 'error', 'C', 'Key in xenstore data not relative (starts with /).'),
  XENSTORE_VALUE_NUL: R('LIBXL-XENSTORE-VALUE-NUL', 'error', 'C+VFY', 'Value in xenstore data not NUL terminated.'),
  CHECKPOINT_STATE_LENGTH: R('LIBXL-CHECKPOINT-STATE-LENGTH', 'error', 'C+VFY', 'CHECKPOINT_STATE body must hold a u32 control_id (body_length 4).'),
  CHECKPOINT_STATE_EXTRA: R('LIBXL-CHECKPOINT-STATE-EXTRA', 'strict', 'project', 'CHECKPOINT_STATE body longer than its u32 control_id.'),
  LIBXL_UNKNOWN_OPTIONAL: R('LIBXL-UNKNOWN-OPTIONAL', 'strict', 'C', 'Unknown optional libxl record (libxl itself rejects it; a lenient reader skips it).'),
  CHECKPOINT_STATE_ID: R('LIBXL-CHECKPOINT-STATE-ID', 'error', 'C', 'CHECKPOINT_STATE control_id not valid here.'),

  // libxc headers
  LIBXC_MARKER: R('LIBXC-MARKER', 'error', 'C+VFY', 'libxc image marker must be all ones.'),
  LIBXC_ID: R('LIBXC-ID', 'error', 'C+VFY', 'libxc image id must be "XENF".'),
  LIBXC_VERSION: R('LIBXC-VERSION', 'error', 'C+VFY', 'libxc image version must be 2 or 3.'),
  LIBXC_OPTIONS_RESERVED: R('LIBXC-OPTIONS-RESERVED', 'strict', 'VFY', 'libxc image options bits 1–15 are reserved.'),
  LIBXC_HEADER_RESERVED: R('LIBXC-HEADER-RESERVED', 'strict', 'VFY', 'libxc image header reserved fields must be zero.'),
  DOMAIN_TYPE: R('LIBXC-DOMAIN-TYPE', 'error', 'C+VFY', 'libxc domain type must be 1 (x86 PV) or 2 (x86 HVM).'),
  PAGE_SHIFT: R('LIBXC-PAGE-SHIFT', 'error', 'C+VFY', 'libxc page_shift must be 12.'),
  DOMAIN_RESERVED: R('LIBXC-DOMAIN-RESERVED', 'strict', 'VFY', 'libxc domain header reserved field must be zero.'),

  // libxc records
  LIBXC_UNKNOWN_MANDATORY: R('LIBXC-UNKNOWN-MANDATORY', 'error', 'C+VFY', 'Unknown mandatory libxc record type.'),
  LIBXC_UNKNOWN_OPTIONAL: R('LIBXC-UNKNOWN-OPTIONAL', 'note', 'C', 'Unknown optional libxc record skipped.'),
  LIBXC_UNHANDLED: R(
    'LIBXC-UNHANDLED',
    'error',
    'C+VFY',
    'Mandatory libxc record not handled in this stream (wrong guest type, deprecated or back-channel only).',
  ),
  LIBXC_EMPTY_BODY: R('LIBXC-EMPTY-BODY', 'strict', 'VFY', 'END, VERIFY, CHECKPOINT, STATIC_DATA_END (and RFC markers) have no body.'),
  CHECKPOINT_IN_PLAIN: R('LIBXC-CHECKPOINT-IN-PLAIN', 'error', 'C', 'CHECKPOINT record in a non-checkpointed stream.'),
  STATIC_DATA_END_DUPLICATE: R('LIBXC-STATIC-DATA-END-DUPLICATE', 'error', 'C', 'Multiple STATIC_DATA_END records.'),
  STATIC_DATA_END_MISSING: R('LIBXC-STATIC-DATA-END-MISSING', 'error', 'C', 'v3 stream: PAGE_DATA or X86_PV_P2M_FRAMES before STATIC_DATA_END.'),
  V3_RECORD_IN_V2: R('LIBXC-V3-RECORD-IN-V2', 'strict', 'VFY', 'STATIC_DATA_END or CPUID/MSR policy in a v2 image.'),
  PAGE_DATA_SHORT: R('LIBXC-PAGE-DATA-SHORT', 'error', 'C+VFY', 'PAGE_DATA body shorter than its 8-byte header.'),
  PAGE_DATA_COUNT_ZERO: R('LIBXC-PAGE-DATA-COUNT-ZERO', 'error', 'C', 'PAGE_DATA count must be at least 1.'),
  PAGE_DATA_PFN_ARRAY: R('LIBXC-PAGE-DATA-PFN-ARRAY', 'error', 'C+VFY', 'PAGE_DATA too short for its pfn array.'),
  PAGE_DATA_LENGTH: R('LIBXC-PAGE-DATA-LENGTH', 'error', 'C+VFY', 'PAGE_DATA body_length must be 8 + 8·count + 4096·(entries with data).'),
  PAGE_DATA_TYPE: R('LIBXC-PAGE-DATA-TYPE', 'error', 'C+VFY', 'PAGE_DATA pfn type nibble 5–8 is invalid.'),
  PAGE_DATA_PFN_RESERVED: R('LIBXC-PAGE-DATA-PFN-RESERVED', 'strict', 'VFY', 'PAGE_DATA pfn bits 52–59 are reserved.'),
  PAGE_DATA_RESERVED: R('LIBXC-PAGE-DATA-RESERVED', 'strict', 'VFY', 'PAGE_DATA reserved field must be zero.'),
  PAGE_DATA_PFN_RANGE: R('LIBXC-PAGE-DATA-PFN-RANGE', 'error', 'C', "PV PAGE_DATA pfn beyond the P2M's end pfn."),
  VERIFY_MISMATCH: R(
    'LIBXC-VERIFY-MISMATCH',
    'strict',
    'C',
    'A page re-sent after VERIFY (xl migrate --debug) differs from the copy it verifies (its last copy before VERIFY, or a zero page).',
  ),
  PV_INFO_LENGTH: R('LIBXC-PV-INFO-LENGTH', 'error', 'C+VFY', 'X86_PV_INFO body must be 8 bytes.'),
  PV_INFO_WIDTH: R('LIBXC-PV-INFO-WIDTH', 'error', 'C+VFY', 'X86_PV_INFO width/levels must be (4,3) or (8,4).'),
  PV_INFO_EXTRA: R('LIBXC-PV-INFO-EXTRA', 'strict', 'VFY', 'X86_PV_INFO body longer than 8 bytes.'),
  PV_INFO_RESERVED: R('LIBXC-PV-INFO-RESERVED', 'strict', 'VFY', 'X86_PV_INFO reserved bytes must be zero.'),
  PV_INFO_DUPLICATE: R('LIBXC-PV-INFO-DUPLICATE', 'error', 'C', 'Second X86_PV_INFO record.'),
  PV_INFO_MISSING: R('LIBXC-PV-INFO-MISSING', 'error', 'C', 'X86_PV_P2M_FRAMES / SHARED_INFO / vCPU record before X86_PV_INFO.'),
  P2M_SHORT: R('LIBXC-P2M-FRAMES-SHORT', 'error', 'C+VFY', 'X86_PV_P2M_FRAMES body shorter than 8 bytes or not a multiple of 8.'),
  P2M_RANGE: R('LIBXC-P2M-FRAMES-RANGE', 'error', 'C', 'X86_PV_P2M_FRAMES start pfn exceeds end pfn.'),
  P2M_LENGTH: R('LIBXC-P2M-FRAMES-LENGTH', 'error', 'C', 'X86_PV_P2M_FRAMES frame count does not match the pfn range.'),
  VCPU_SHORT: R('LIBXC-VCPU-SHORT', 'error', 'C+VFY', 'vCPU record shorter than its 8-byte header.'),
  VCPU_SIZE: R('LIBXC-VCPU-SIZE', 'error', 'C', 'vCPU context blob has the wrong size for its record type.'),
  VCPU_RESERVED: R('LIBXC-VCPU-RESERVED', 'strict', 'VFY', 'vCPU record reserved field must be zero.'),
  VCPU0_MISSING: R('LIBXC-VCPU0-MISSING', 'error', 'C', "PV stream ended without vCPU 0's X86_PV_VCPU_BASIC."),
  SHARED_INFO_LENGTH: R('LIBXC-SHARED-INFO-LENGTH', 'error', 'C+VFY', 'SHARED_INFO body must be 4096 bytes.'),
  TSC_INFO_LENGTH: R('LIBXC-TSC-INFO-LENGTH', 'error', 'C+VFY', 'X86_TSC_INFO body must be 24 bytes.'),
  TSC_INFO_RESERVED: R('LIBXC-TSC-INFO-RESERVED', 'strict', 'VFY', 'X86_TSC_INFO reserved field must be zero.'),
  HVM_CONTEXT_EMPTY: R('LIBXC-HVM-CONTEXT-EMPTY', 'error', 'C+VFY', 'HVM_CONTEXT must not be empty.'),
  HVM_CONTEXT_FRAMING: R(
    'LIBXC-HVM-CONTEXT-FRAMING',
    'error',
    'C',
    'HVM_CONTEXT entries must fit in the blob and end with an END entry (typecode 0, length 0).',
  ),
  HVM_CONTEXT_HEADER: R('LIBXC-HVM-CONTEXT-HEADER', 'error', 'C', 'HVM_CONTEXT must start with a 24-byte HEADER entry (magic 0x54381286, version 1).'),
  HVM_CONTEXT_ENTRY: R(
    'LIBXC-HVM-CONTEXT-ENTRY',
    'error',
    'C',
    'HVM_CONTEXT entry with a typecode Xen 4.17 cannot load or a length other than public/arch-x86/hvm/save.h gives.',
  ),
  HVM_CONTEXT_INSTANCE: R('LIBXC-HVM-CONTEXT-INSTANCE', 'strict', 'project', 'A one-per-domain HVM_CONTEXT entry must have instance 0 (PIC: 0 or 1).'),
  HVM_CONTEXT_RESERVED: R(
    'LIBXC-HVM-CONTEXT-RESERVED',
    'strict',
    'C',
    'HVM_CONTEXT entry fields Xen 4.17 requires to be zero (CPU pad0, CPU_MSR _rsvd) must be zero.',
  ),
  HVM_PARAMS_SHORT: R('LIBXC-HVM-PARAMS-SHORT', 'error', 'C+VFY', 'HVM_PARAMS body shorter than its 8-byte header.'),
  HVM_PARAMS_LENGTH: R('LIBXC-HVM-PARAMS-LENGTH', 'error', 'C+VFY', 'HVM_PARAMS body_length must be 8 + 16·count.'),
  HVM_PARAMS_RESERVED: R('LIBXC-HVM-PARAMS-RESERVED', 'strict', 'VFY', 'HVM_PARAMS reserved field must be zero.'),
  CPUID_POLICY_LENGTH: R('LIBXC-CPUID-POLICY-LENGTH', 'error', 'C+VFY', 'X86_CPUID_POLICY must be a non-empty multiple of 24 bytes.'),
  MSR_POLICY_LENGTH: R('LIBXC-MSR-POLICY-LENGTH', 'error', 'C+VFY', 'X86_MSR_POLICY must be a non-empty multiple of 16 bytes.'),
  DIRTY_PFN_LIST_LENGTH: R('LIBXC-DIRTY-PFN-LIST-LENGTH', 'error', 'C', 'CHECKPOINT_DIRTY_PFN_LIST length must be a multiple of 8.'),

  // Postcopy RFC dialect
  PC_BEGIN_DUPLICATE: R('RFC-POSTCOPY-BEGIN-DUPLICATE', 'error', 'RFC', 'Second POSTCOPY_BEGIN.'),
  PC_ORDER: R(
    'RFC-POSTCOPY-ORDER',
    'error',
    'RFC',
    'Postcopy record out of order (PFNS_BEGIN before BEGIN, PFNS before PFNS_BEGIN, TRANSITION before PFNS_BEGIN, …).',
  ),
  PC_PFNS_LENGTH: R('RFC-POSTCOPY-PFNS-LENGTH', 'error', 'RFC', 'POSTCOPY_PFNS body_length must be 8 + 8·count, count ≥ 1.'),
  PC_PFNS_DUPLICATE: R('RFC-POSTCOPY-PFNS-DUPLICATE', 'error', 'RFC', 'Same pfn twice in the postcopy set.'),
  PC_PAGE_TYPE: R('RFC-POSTCOPY-PAGE-TYPE', 'error', 'RFC', 'POSTCOPY_PAGE_DATA entry of type XTAB/BROKEN/XALLOC.'),
  PC_PAGE_NOT_LISTED: R('RFC-POSTCOPY-PAGE-NOT-LISTED', 'error', 'RFC', 'POSTCOPY_PAGE_DATA pfn not in the postcopy set.'),
  PC_PAGE_DUPLICATE: R('RFC-POSTCOPY-PAGE-DUPLICATE', 'error', 'RFC', 'POSTCOPY_PAGE_DATA pfn already received.'),

  // Layer automaton and stream ends
  CHECKPOINT_INCOMPLETE: R('STREAM-NO-COMPLETE-CHECKPOINT', 'error', 'C', 'Checkpointed stream ended before its first complete checkpoint.'),
  DISCARDED_CHECKPOINT: R('STREAM-PARTIAL-CHECKPOINT-DISCARDED', 'note', 'C', 'Records after the last complete checkpoint are discarded on failover.'),

  // Back channels
  BACK_CHANNEL_ORDER: R('BACK-CHANNEL-ORDER', 'error', 'C', 'Back-channel record out of order.'),
} as const satisfies Record<string, RuleInfo>);

export type RuleKey = keyof typeof RULES;
export type RuleId = (typeof RULES)[RuleKey]['id'];

export const RULE_LIST: readonly RuleInfo[] = Object.freeze(Object.values(RULES));

const byId = new Map<string, RuleInfo>(RULE_LIST.map((r) => [r.id, r]));
export function ruleById(id: string): RuleInfo | undefined {
  return byId.get(id);
}
