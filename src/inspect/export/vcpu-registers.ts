/**
 * The vCPUs of the exported checkpoint with their general registers, from its
 * state records decoded by the vCPU context tables (src/codec/machine): PV
 * from X86_PV_VCPU_BASIC (vcpu_guest_context), HVM and PVH from HVM_CONTEXT's
 * CPU entries (hvm_hw_cpu; the entry's instance is the vCPU id). Mapped to
 * user_regs_struct, the register set a core's NT_PRSTATUS holds.
 */
import { hvmContextEntries } from '../../codec/bodies/x86-common.js';
import { vcpuRegisters, type VcpuRegisters } from '../../codec/machine/registers.js';
import { decodeHvmCpu, decodePvVcpuContext, type VcpuContext } from '../../codec/machine/vcpu-context.js';
import type { StreamRecord } from '../../codec/records.js';
import { PAGE_SIZE } from '../../format/constants.js';
import { HVM_SAVE_ENTRY_TYPES } from '../../format/hvm-save.js';
import type { X86UserRegs } from './elf-notes.js';
import type { VcpuFacts } from './guest-facts.js';

/** orig_rax of a thread that is not in a system call (Linux's −1). */
const NOT_IN_SYSCALL = 0xffff_ffff_ffff_ffffn;

/** A saved vCPU's registers as user_regs_struct (a 32-bit PV guest's zero-extended). */
export function userRegs(r: VcpuRegisters): X86UserRegs {
  return {
    r15: r.r15,
    r14: r.r14,
    r13: r.r13,
    r12: r.r12,
    rbp: r.rbp,
    rbx: r.rbx,
    r11: r.r11,
    r10: r.r10,
    r9: r.r9,
    r8: r.r8,
    rax: r.rax,
    rcx: r.rcx,
    rdx: r.rdx,
    rsi: r.rsi,
    rdi: r.rdi,
    orig_rax: NOT_IN_SYSCALL,
    rip: r.rip,
    cs: BigInt(r.cs),
    eflags: r.rflags,
    rsp: r.rsp,
    ss: BigInt(r.ss),
    fs_base: r.fs_base,
    gs_base: r.gs_base,
    ds: BigInt(r.ds),
    es: BigInt(r.es),
    fs: BigInt(r.fs),
    gs: BigInt(r.gs),
  };
}

/** HVM save typecode of the per-vCPU CPU entry (struct hvm_hw_cpu). */
const HVM_CPU_TYPECODE = (HVM_SAVE_ENTRY_TYPES.find((t) => t.name === 'CPU') as { typecode: number }).typecode;

function vcpuFacts(id: number, context: VcpuContext | undefined): VcpuFacts {
  if (!context) return { id };
  const r = vcpuRegisters(context);
  return { id, registers: userRegs(r), cr3: r.cr3, pageTableRoot: r.cr3Frame * BigInt(PAGE_SIZE) };
}

/**
 * Every vCPU the state records hold a context for, ascending by id; a context
 * no table fits keeps the vCPU without registers. `guestWidth`: X86_PV_INFO's
 * (8 or 4), which picks a PV context's layout.
 */
export function vcpuStates(stateRecords: readonly StreamRecord[], guestWidth: number | undefined): VcpuFacts[] {
  const byId = new Map<number, VcpuFacts>();
  for (const r of stateRecords) {
    if (r.name === 'X86_PV_VCPU_BASIC' && r.body.kind === 'vcpu') {
      byId.set(r.body.vcpuId, vcpuFacts(r.body.vcpuId, decodePvVcpuContext(r.body.context, guestWidth)));
    } else if (r.name === 'HVM_CONTEXT' && r.body.kind === 'opaque') {
      for (const e of hvmContextEntries(r.body.data).entries) {
        if (e.typecode === HVM_CPU_TYPECODE) byId.set(e.instance, vcpuFacts(e.instance, decodeHvmCpu(e.data)));
      }
    }
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}
