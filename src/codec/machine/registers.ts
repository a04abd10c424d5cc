/**
 * The general registers of a saved vCPU in one shape, whatever saved them
 * (HVM CPU entry or PV vcpu_guest_context): what a core-file writer or a
 * reader of `dump` wants. A 32-bit PV guest's registers are zero-extended.
 */
import type { VcpuContext } from './vcpu-context.js';

export interface VcpuRegisters {
  /** Register width of the saved guest mode: 64, or 32 for a 32-bit PV guest. */
  readonly width: 64 | 32;
  readonly rax: bigint;
  readonly rbx: bigint;
  readonly rcx: bigint;
  readonly rdx: bigint;
  readonly rsi: bigint;
  readonly rdi: bigint;
  readonly rbp: bigint;
  readonly rsp: bigint;
  readonly r8: bigint;
  readonly r9: bigint;
  readonly r10: bigint;
  readonly r11: bigint;
  readonly r12: bigint;
  readonly r13: bigint;
  readonly r14: bigint;
  readonly r15: bigint;
  readonly rip: bigint;
  readonly rflags: bigint;
  readonly cs: number;
  readonly ss: number;
  readonly ds: number;
  readonly es: number;
  readonly fs: number;
  readonly gs: number;
  readonly fs_base: bigint;
  /** The GS base in effect. */
  readonly gs_base: bigint;
  /** The other GS base (MSR_KERNEL_GS_BASE, swapped in by SWAPGS). */
  readonly kernel_gs_base: bigint;
  readonly cr0: bigint;
  readonly cr2: bigint;
  /** cr3 as saved: the register for HVM; for PV, xen_pfn_to_cr3(pfn) of the guest pfn the save wrote. */
  readonly cr3: bigint;
  readonly cr4: bigint;
  /** The page-table root cr3 names: a guest frame number (HVM) or guest pfn (PV). */
  readonly cr3Frame: bigint;
}

const VGCF_IN_KERNEL = 1n << 2n;

export function vcpuRegisters(ctx: VcpuContext): VcpuRegisters {
  switch (ctx.kind) {
    case 'hvm-cpu':
    case 'hvm-cpu-compat': {
      const c = ctx.value;
      return {
        width: 64,
        ...pick(c, ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags']),
        cs: c.cs_sel,
        ss: c.ss_sel,
        ds: c.ds_sel,
        es: c.es_sel,
        fs: c.fs_sel,
        gs: c.gs_sel,
        fs_base: c.fs_base,
        gs_base: c.gs_base,
        kernel_gs_base: c.shadow_gs,
        cr0: c.cr0,
        cr2: c.cr2,
        cr3: c.cr3,
        cr4: c.cr4,
        cr3Frame: c.cr3 >> 12n,
      };
    }
    case 'pv-64': {
      const c = ctx.value;
      const r = c.user_regs;
      const inKernel = (c.flags & VGCF_IN_KERNEL) !== 0n;
      return {
        width: 64,
        ...pick(r, ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags']),
        cs: r.cs,
        ss: r.ss,
        ds: r.ds,
        es: r.es,
        fs: r.fs,
        gs: r.gs,
        fs_base: c.fs_base,
        gs_base: inKernel ? c.gs_base_kernel : c.gs_base_user,
        kernel_gs_base: inKernel ? c.gs_base_user : c.gs_base_kernel,
        cr0: c.ctrlreg[0],
        cr2: c.ctrlreg[2],
        cr3: c.ctrlreg[3],
        cr4: c.ctrlreg[4],
        cr3Frame: c.ctrlreg[3] >> 12n,
      };
    }
    case 'pv-32': {
      const c = ctx.value;
      const r = c.user_regs;
      const b = BigInt;
      const cr3 = c.ctrlreg[3];
      return {
        width: 32,
        rax: b(r.eax),
        rbx: b(r.ebx),
        rcx: b(r.ecx),
        rdx: b(r.edx),
        rsi: b(r.esi),
        rdi: b(r.edi),
        rbp: b(r.ebp),
        rsp: b(r.esp),
        r8: 0n,
        r9: 0n,
        r10: 0n,
        r11: 0n,
        r12: 0n,
        r13: 0n,
        r14: 0n,
        r15: 0n,
        rip: b(r.eip),
        rflags: b(r.eflags),
        cs: r.cs,
        ss: r.ss,
        ds: r.ds,
        es: r.es,
        fs: r.fs,
        gs: r.gs,
        fs_base: 0n,
        gs_base: 0n,
        kernel_gs_base: 0n,
        cr0: b(c.ctrlreg[0]),
        cr2: b(c.ctrlreg[2]),
        cr3: b(cr3),
        cr4: b(c.ctrlreg[4]),
        // xen_cr3_to_pfn for a 32-bit guest: the pfn's top 12 bits are rotated into cr3's low bits.
        cr3Frame: b(((cr3 >>> 12) | (cr3 << 20)) >>> 0),
      };
    }
  }
}

function pick<K extends string>(from: { readonly [k in K]: bigint }, keys: readonly K[]): { [k in K]: bigint } {
  const out = {} as { [k in K]: bigint };
  for (const k of keys) out[k] = from[k];
  return out;
}
