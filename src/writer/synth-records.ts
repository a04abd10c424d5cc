/**
 * Plausible bodies for synth's non-memory records, shaped like those of a
 * real Xen 4.17 guest (fixtures/xen-4.17): sizes and fields are valid, the
 * values are made up.
 */
import { PAGE_SIZE } from '../format/constants.js';
import type { CpuidLeaf, MsrEntry } from '../codec/bodies/x86-common.js';
import { VCPU_BASIC_SIZE } from '../codec/bodies/x86-pv.js';
import type { HvmParam } from './stream-writer.js';
import type { GuestKind } from './writer-automaton.js';

const NO_SUBLEAF = 0xffffffff;

/** A small CPUID policy of a GenuineIntel-like CPU. */
export function synthCpuidPolicy(): CpuidLeaf[] {
  return [
    { leaf: 0x0, subleaf: NO_SUBLEAF, a: 0xd, b: 0x756e6547, c: 0x6c65746e, d: 0x49656e69 },
    { leaf: 0x1, subleaf: NO_SUBLEAF, a: 0x000506e3, b: 0x00010800, c: 0xf6f83203, d: 0x078bfbff },
    { leaf: 0x7, subleaf: 0, a: 0, b: 0x009c47ab, c: 0, d: 0 },
    { leaf: 0xd, subleaf: 0, a: 0x7, b: 0x340, c: 0x340, d: 0 },
    { leaf: 0xd, subleaf: 1, a: 0x1, b: 0, c: 0, d: 0 },
    { leaf: 0x80000000, subleaf: NO_SUBLEAF, a: 0x80000008, b: 0, c: 0, d: 0 },
    { leaf: 0x80000001, subleaf: NO_SUBLEAF, a: 0, b: 0, c: 0x121, d: 0x2c100800 },
    { leaf: 0x80000008, subleaf: NO_SUBLEAF, a: 0x3027, b: 0, c: 0, d: 0 },
  ];
}

/** MSR_PLATFORM_INFO and MSR_ARCH_CAPABILITIES, the two a 4.17 policy carries. */
export function synthMsrPolicy(): MsrEntry[] {
  return [
    { idx: 0xce, flags: 0, val: 0n },
    { idx: 0x10a, flags: 0, val: 0x20000064n },
  ];
}

/** P2M frame list for a 64-bit PV guest of `pages` pfns: frames near the top of memory. */
export function synthP2mFrames(pages: number): { startPfn: number; endPfn: number; frames: bigint[] } {
  const endPfn = pages - 1;
  const count = Math.floor(endPfn / (PAGE_SIZE / 8)) + 1;
  const frames: bigint[] = [];
  for (let i = 0; i < count; i++) frames.push(BigInt(Math.max(0, pages - 1 - count + i)));
  return { startPfn: 0, endPfn, frames };
}

/** Bytes that are mostly zero with a few deterministic non-zero fields (real contexts look like this). */
function sparseBlob(length: number, seed: number, tag: number): Uint8Array {
  const out = new Uint8Array(length);
  const dv = new DataView(out.buffer);
  let x = (seed ^ Math.imul(tag, 0x9e3779b1)) >>> 0 || 1;
  for (let off = 0; off + 8 <= length; off += 64) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    dv.setUint32(off, x >>> 0, true);
  }
  return out;
}

export function synthSharedInfo(seed: number): Uint8Array {
  return sparseBlob(PAGE_SIZE, seed, 0x5a1);
}

/** vcpu_guest_context_x86_64 (0x1430 bytes) for vCPU `vcpu`. */
export function synthVcpuBasic(seed: number, vcpu: number): Uint8Array {
  const ctx = sparseBlob(VCPU_BASIC_SIZE[8], seed, 0xba51c + vcpu);
  // flags: VGCF_i387_valid | VGCF_in_kernel | VGCF_online (bits 0, 2, 5).
  new DataView(ctx.buffer).setUint32(4096, 0x25, true);
  return ctx;
}

/** The 64-byte extended context a real 4.17 PV guest sends. */
export function synthVcpuExtended(seed: number, vcpu: number): Uint8Array {
  return sparseBlob(64, seed, 0xe87 + vcpu);
}

/** HVM save blob: HEADER entry (as Xen 4.17 writes it: changeset "unknown") + END entry. */
export function synthHvmContext(khz: number): Uint8Array {
  const blob = new Uint8Array(8 + 24 + 8);
  const dv = new DataView(blob.buffer);
  dv.setUint16(0, 1, true); // HEADER
  dv.setUint16(2, 0, true);
  dv.setUint32(4, 24, true);
  dv.setUint32(8, 0x54381286, true); // HVM_FILE_MAGIC
  dv.setUint32(12, 1, true); // HVM_FILE_VERSION
  dv.setBigUint64(16, 0xffffffffffffffffn, true);
  dv.setUint32(24, 0x000506e3, true); // cpuid
  dv.setUint32(28, khz, true);
  // END entry: typecode 0, instance 0, length 0 (already zero).
  return blob;
}

/** HVM_PARAMS in the order libxc writes them, special pages in the usual 0xfefxx region. */
export function synthHvmParams(kind: GuestKind, postcopy: boolean): HvmParam[] {
  const params: HvmParam[] = [{ index: 1, value: 0xfeffc }]; // STORE_PFN
  if (kind === 'hvm') params.push({ index: 5, value: 0xfeff0 }, { index: 6, value: 0xfeff1 }); // IOREQ, BUFIOREQ
  if (postcopy) params.push({ index: 27, value: 0xfeffb }); // PAGING_RING_PFN: the RFC receiver needs it
  params.push({ index: 17, value: 0xfefff }); // CONSOLE_PFN
  if (kind === 'hvm') params.push({ index: 19, value: 1 }, { index: 12, value: 0xfeffd000 }); // ACPI_IOPORTS_LOCATION, IDENT_PT
  params.push({ index: 36, value: 8 }); // X87_FIP_WIDTH
  return params;
}

/** The physmap keys libxl saves for QEMU's VGA RAM. */
export function synthEmulatorXenstore(): Array<[string, string]> {
  return [
    ['physmap/f0000000/start_addr', 'f0000000'],
    ['physmap/f0000000/size', '800000'],
    ['physmap/f0000000/name', 'vga.vram'],
  ];
}

/** A QEMU-savevm-looking blob ("QEVM", version 3), 6 KiB, deterministic; its length is not a multiple of 8. */
export function synthEmulatorContext(seed: number): Uint8Array {
  const blob = sparseBlob(6132, seed, 0x9e3);
  blob.set([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3], 0);
  return blob;
}

/** A domain config like `xl save` embeds (libxl_domain_config_to_json output, abridged). */
export function synthXlConfig(kind: GuestKind, pages: number, vcpus: number, seed: number): object {
  const memkb = pages * 4;
  const uuid = `5e1f0000-0000-4000-8000-${(seed >>> 0).toString(16).padStart(12, '0')}`;
  return {
    c_info: { type: kind, name: `synth-${kind}`, uuid, run_hotplug_scripts: 'True' },
    b_info: {
      max_vcpus: vcpus,
      avail_vcpus: Array.from({ length: vcpus }, (_, i) => i),
      max_memkb: memkb,
      target_memkb: memkb,
      ...(kind === 'hvm' ? { device_model_version: 'qemu_xen' } : {}),
      sched_params: {},
      type: { [kind]: {} },
      arch_arm: {},
      arch_x86: { msr_relaxed: 'False' },
    },
    on_crash: 'preserve',
  };
}
