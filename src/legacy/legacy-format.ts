/**
 * Fixed numbers of the legacy (pre-Xen-4.6) save format written by Xen 4.5's
 * tools/libxc/xc_domain_save.c (and read back by xc_domain_restore.c). Xen's
 * tools/python/xen/migration/legacy.py documents the same layout; spec/FORMAT.md
 * ("Legacy streams") summarises it.
 *
 * The legacy stream has no record framing: a p2m size, (PV) extended info and
 * the p2m frame list, then "chunks" each starting with a signed 32-bit id
 * (> 0: a page batch of that many pfns; < 0: metadata; 0: end of the body),
 * then a guest-type-specific tail. Its `unsigned long` fields are as wide as
 * the SAVING TOOLSTACK (4 or 8 bytes), which the stream does not say directly.
 */

/** A chunk id ≤ 0, with what follows its 4-byte id. */
export interface LegacyChunkInfo {
  readonly name: string;
  /** Bytes after the id, when fixed (undefined: variable or handled specially). */
  readonly bodySize?: number;
  /** HVM param index the chunk's u64 value becomes in a v2 HVM_PARAMS record. */
  readonly hvmParam?: number;
}

/** `struct { int id; uint32_t pad; uint64_t data; }` minus the id: 4 padding bytes then the value. */
const PARAM_CHUNK = 12;

export const LEGACY_CHUNKS: Readonly<Record<number, LegacyChunkInfo>> = Object.freeze({
  0: { name: 'end', bodySize: 0 },
  [-1]: { name: 'enable_verify_mode', bodySize: 0 },
  [-2]: { name: 'vcpu_info' },
  [-3]: { name: 'hvm_ident_pt', bodySize: PARAM_CHUNK, hvmParam: 12 },
  [-4]: { name: 'hvm_vm86_tss', bodySize: PARAM_CHUNK, hvmParam: 15 },
  [-5]: { name: 'tmem' },
  [-6]: { name: 'tmem_extra' },
  [-7]: { name: 'tsc_info', bodySize: 20 },
  [-8]: { name: 'hvm_console_pfn', bodySize: PARAM_CHUNK, hvmParam: 17 },
  [-9]: { name: 'last_checkpoint', bodySize: 0 },
  [-10]: { name: 'hvm_acpi_ioports_location', bodySize: PARAM_CHUNK, hvmParam: 19 },
  [-11]: { name: 'hvm_viridian', bodySize: PARAM_CHUNK, hvmParam: 9 },
  [-12]: { name: 'compressed_data' },
  [-13]: { name: 'enable_compression', bodySize: 0 },
  [-14]: { name: 'hvm_generation_id_addr', bodySize: PARAM_CHUNK, hvmParam: 34 },
  [-15]: { name: 'hvm_paging_ring_pfn', bodySize: PARAM_CHUNK, hvmParam: 27 },
  [-16]: { name: 'hvm_monitor_ring_pfn', bodySize: PARAM_CHUNK, hvmParam: 28 },
  [-17]: { name: 'hvm_sharing_ring_pfn', bodySize: PARAM_CHUNK, hvmParam: 29 },
  [-18]: { name: 'toolstack' },
  [-19]: { name: 'hvm_ioreq_server_pfn', bodySize: PARAM_CHUNK, hvmParam: 32 },
  [-20]: { name: 'hvm_nr_ioreq_server_pages', bodySize: PARAM_CHUNK, hvmParam: 33 },
});

export const CHUNK_END = 0;
export const CHUNK_ENABLE_VERIFY_MODE = -1;
export const CHUNK_VCPU_INFO = -2;
export const CHUNK_TSC_INFO = -7;
export const CHUNK_TOOLSTACK = -18;
/** The lowest chunk id Xen 4.5 defines. */
export const CHUNK_ID_MIN = -20;

/** Most pfns in one page batch (xc_domain_save's MAX_BATCH_SIZE). */
export const LEGACY_MAX_BATCH = 1024;
/** Highest vCPU id a legacy stream can describe (XC_SR_MAX_VCPUS − 1). */
export const LEGACY_MAX_VCPU_ID = 4095;

/** A legacy pfn entry: XEN_DOMCTL_PFINFO_* type in bits 31–28, the pfn in bits 27–0. */
export const LEGACY_PFN_MASK = 0x0fffffff;
export const LEGACY_TYPE_SHIFT = 28;
/** Types from BROKEN (0xd) up carry no page data. */
export const LEGACY_FIRST_DATALESS_TYPE = 0xd;
/** An XTAB entry with pfn 0: xc_domain_save's filler for a page it could not map (dropped on conversion, as Xen's converter does). */
export const LEGACY_XTAB_FILLER = 0xf0000000;

/** Extended-info block ids (PV): the vCPU context size tells the guest width. */
export const EXT_BLOCK_VCPU = 'vcpu';
export const EXT_BLOCK_EXTV = 'extv';
export const EXT_BLOCK_XCNT = 'xcnt';
/** vcpu_guest_context sizes: 64-bit guests (4 page-table levels), 32-bit PAE guests (3 levels). */
export const VCPU_CONTEXT_SIZE_64 = 0x1430;
export const VCPU_CONTEXT_SIZE_32 = 0xaf0;
/** The extended vCPU context (xen_domctl_ext_vcpucontext) is always sent as 128 bytes. */
export const EXTENDED_CONTEXT_SIZE = 128;
/** Extended info's total size is small in practice; more is refused before reading. */
export const EXTENDED_INFO_MAX = 64 * 1024;
/** The largest toolstack chunk read (libxl's physmap list is a few hundred bytes). */
export const TOOLSTACK_MAX = 16 * 1024 * 1024;
/** The largest HVM context blob (Xen's own is tens of kilobytes per vCPU). */
export const HVM_CONTEXT_MAX = 128 * 1024 * 1024;

/** QEMU record signatures after an HVM tail (21 bytes, no NUL). */
export const QEMU_SIGNATURE_V2 = 'DeviceModelRecord0002';
export const QEMU_SIGNATURE_REMUS = 'RemusDeviceModelState';
/** xend's qemu-dm record: the QEMU state runs to the end of the file. */
export const QEMU_SIGNATURE_EOF = 'QemuDeviceModelRecord';
export const QEMU_SIGNATURE_SIZE = 21;

/** xend's save-file signature; a big-endian i32 config length and an S-expression config follow. */
export const XEND_SIGNATURE = 'LinuxGuestRecord';

/** HVM params of the HVM tail's three "magic pfns", in their order. */
export const HVM_PARAM_IOREQ_PFN = 5;
export const HVM_PARAM_BUFIOREQ_PFN = 6;
export const HVM_PARAM_STORE_PFN = 1;

export function chunkName(id: number): string {
  if (id > 0) return 'page_batch';
  return LEGACY_CHUNKS[id]?.name ?? 'unknown';
}
