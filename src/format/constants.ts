/**
 * Fixed numbers of the Xen save / migration stream formats.
 * Source: spec/FORMAT.md §3–§7 (upstream Xen docs/specs and tools).
 */

/** The 32-byte xl save-file magic: "Xen saved domain, xl format\n \0 \r" (no trailing NUL). */
export const XL_MAGIC: Uint8Array = Uint8Array.from([
  0x58, 0x65, 0x6e, 0x20, 0x73, 0x61, 0x76, 0x65, 0x64, 0x20, 0x64, 0x6f, 0x6d, 0x61, 0x69, 0x6e, 0x2c, 0x20, 0x78, 0x6c, 0x20, 0x66, 0x6f, 0x72, 0x6d, 0x61,
  0x74, 0x0a, 0x20, 0x00, 0x20, 0x0d,
]);
export const XL_HEADER_SIZE = 48;
export const XL_BYTEORDER_MARKER = 0x01020304;
export const XL_MANDATORY_FLAG_JSON = 0x1;
export const XL_MANDATORY_FLAG_STREAMV2 = 0x2;
export const XL_MANDATORY_FLAGS_KNOWN = XL_MANDATORY_FLAG_JSON | XL_MANDATORY_FLAG_STREAMV2;
/**
 * Most xl optional data (config_len + config) a reader buffers: xl's JSON configs are
 * kilobytes, and xl itself mallocs whatever optional_data_len claims (up to 4 GiB).
 * Overridable with the reader's `maxXlOptionalData`.
 */
export const XL_OPTIONAL_DATA_MAX = 16 * 1024 * 1024;

/** "LibxlFmt" as a big-endian u64. */
export const LIBXL_IDENT = 0x4c6962786c466d74n;
export const LIBXL_IDENT_BYTES: Uint8Array = Uint8Array.from([0x4c, 0x69, 0x62, 0x78, 0x6c, 0x46, 0x6d, 0x74]);
export const LIBXL_HEADER_SIZE = 16;
export const LIBXL_VERSION = 2;
export const LIBXL_OPTION_BIG_ENDIAN = 0x1;
export const LIBXL_OPTION_LEGACY = 0x2;

export const LIBXC_MARKER = 0xffffffffffffffffn;
/** "XENF" as a big-endian u32. */
export const LIBXC_ID = 0x58454e46;
export const LIBXC_IMAGE_HEADER_SIZE = 24;
export const LIBXC_DOMAIN_HEADER_SIZE = 16;
export const LIBXC_VERSION_MIN = 2;
export const LIBXC_VERSION_MAX = 3;
export const LIBXC_OPTION_BIG_ENDIAN = 0x1;

export const DOMAIN_TYPE_X86_PV = 1;
export const DOMAIN_TYPE_X86_HVM = 2;
export const DOMAIN_TYPE_NAMES: Readonly<Record<number, string>> = { 1: 'x86 PV', 2: 'x86 HVM' };

export const RECORD_HEADER_SIZE = 8;
/** libxc REC_LENGTH_MAX (128 MiB); the C reader refuses longer bodies. libxl has none: we use the same. */
export const REC_LENGTH_MAX = 0x08000000;
/** Bit 31 of a record type marks it optional. */
export const RECORD_TYPE_OPTIONAL_BIT = 0x80000000;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** libxc writer batch limit: pfns per PAGE_DATA record. */
export const MAX_BATCH_SIZE = 1024;
export const PFN_MASK_LOW32 = 0xffffffff;
/** Bits 51–32 of a pfn entry that belong to the pfn (the upper u32 keeps bits 19–0). */
export const PFN_HIGH_MASK = 0x000fffff;

/** Emulator ids (libxl emulator sub-header). */
export const EMULATOR_IDS: Readonly<Record<number, string>> = {
  0: 'unknown (legacy)',
  1: 'QEMU traditional',
  2: 'QEMU upstream',
};

/** CHECKPOINT_STATE control ids (COLO). */
export const CHECKPOINT_CONTROL_IDS: Readonly<Record<number, string>> = {
  0: 'CHECKPOINT_NEW',
  1: 'CHECKPOINT_SVM_SUSPENDED',
  2: 'CHECKPOINT_SVM_READY',
  3: 'CHECKPOINT_SVM_RESUMED',
};

/** The message xl's migrate sender writes right after the stream (spec/PROTOCOLS.md §1.2). */
export const XL_MIGRATE_GO_MESSAGE = 'domain is yours, you are cleared to unpause\0';

/** [RFC postcopy] receiver → sender after the postcopy phase, on the back channel's pipe: 41 characters + NUL. */
export const XL_POSTCOPY_SYNC_MESSAGE = 'postcopy migration completed successfully\0';

/** Round a body length up to the 8-byte record alignment. */
export function roundUp8(n: number): number {
  return n + ((8 - (n % 8)) % 8);
}
