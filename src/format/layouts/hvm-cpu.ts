/**
 * The HVM save entry CPU (typecode 2): struct hvm_hw_cpu of Xen 4.17's
 * public/arch-x86/hvm/save.h, and hvm_hw_cpu_compat (1016 bytes), the pre-3.4
 * form without msr_tsc_aux, flags and pad0 that Xen still loads (its
 * _hvm_hw_fix_cpu moves tsc and the pending event). Xen loads CPU
 * zero-extended: any other length up to 1032 (e.g. 1024, Xen 3.4–4.6, before
 * flags) is the current struct with its tail read as zeros.
 */
import { defineLayout, type FieldDef } from '../layout.js';
import { CR0_BITS, CR4_BITS, EFER_BITS, RFLAGS_BITS } from './x86-bits.js';
import { FXSAVE_AREA } from './x86-fpu.js';

/** pending_event's single-bit fields (the vector and type are bits 0–7 and 8–10). */
export const PENDING_EVENT_BITS: Readonly<Record<number, string>> = { 11: 'error_valid', 31: 'valid' };

/** Both forms' registers: FPU area, general, control, debug and segment registers, system MSRs. */
const CPU_REGISTERS = [
  { name: 'fpu_regs', type: FXSAVE_AREA },
  { name: 'rax', type: 'u64' },
  { name: 'rbx', type: 'u64' },
  { name: 'rcx', type: 'u64' },
  { name: 'rdx', type: 'u64' },
  { name: 'rbp', type: 'u64' },
  { name: 'rsi', type: 'u64' },
  { name: 'rdi', type: 'u64' },
  { name: 'rsp', type: 'u64' },
  { name: 'r8', type: 'u64' },
  { name: 'r9', type: 'u64' },
  { name: 'r10', type: 'u64' },
  { name: 'r11', type: 'u64' },
  { name: 'r12', type: 'u64' },
  { name: 'r13', type: 'u64' },
  { name: 'r14', type: 'u64' },
  { name: 'r15', type: 'u64' },
  { name: 'rip', type: 'u64' },
  { name: 'rflags', type: 'u64', bits: RFLAGS_BITS },
  { name: 'cr0', type: 'u64', bits: CR0_BITS },
  { name: 'cr2', type: 'u64' },
  { name: 'cr3', type: 'u64' },
  { name: 'cr4', type: 'u64', bits: CR4_BITS },
  { name: 'dr0', type: 'u64' },
  { name: 'dr1', type: 'u64' },
  { name: 'dr2', type: 'u64' },
  { name: 'dr3', type: 'u64' },
  { name: 'dr6', type: 'u64' },
  { name: 'dr7', type: 'u64' },
  { name: 'cs_sel', type: 'u32', show: 'hex' },
  { name: 'ds_sel', type: 'u32', show: 'hex' },
  { name: 'es_sel', type: 'u32', show: 'hex' },
  { name: 'fs_sel', type: 'u32', show: 'hex' },
  { name: 'gs_sel', type: 'u32', show: 'hex' },
  { name: 'ss_sel', type: 'u32', show: 'hex' },
  { name: 'tr_sel', type: 'u32', show: 'hex' },
  { name: 'ldtr_sel', type: 'u32', show: 'hex' },
  { name: 'cs_limit', type: 'u32', show: 'hex' },
  { name: 'ds_limit', type: 'u32', show: 'hex' },
  { name: 'es_limit', type: 'u32', show: 'hex' },
  { name: 'fs_limit', type: 'u32', show: 'hex' },
  { name: 'gs_limit', type: 'u32', show: 'hex' },
  { name: 'ss_limit', type: 'u32', show: 'hex' },
  { name: 'tr_limit', type: 'u32', show: 'hex' },
  { name: 'ldtr_limit', type: 'u32', show: 'hex' },
  { name: 'idtr_limit', type: 'u32', show: 'hex' },
  { name: 'gdtr_limit', type: 'u32', show: 'hex' },
  { name: 'cs_base', type: 'u64' },
  { name: 'ds_base', type: 'u64' },
  { name: 'es_base', type: 'u64' },
  { name: 'fs_base', type: 'u64' },
  { name: 'gs_base', type: 'u64' },
  { name: 'ss_base', type: 'u64' },
  { name: 'tr_base', type: 'u64' },
  { name: 'ldtr_base', type: 'u64' },
  { name: 'idtr_base', type: 'u64' },
  { name: 'gdtr_base', type: 'u64' },
  { name: 'cs_arbytes', type: 'u32', show: 'hex' },
  { name: 'ds_arbytes', type: 'u32', show: 'hex' },
  { name: 'es_arbytes', type: 'u32', show: 'hex' },
  { name: 'fs_arbytes', type: 'u32', show: 'hex' },
  { name: 'gs_arbytes', type: 'u32', show: 'hex' },
  { name: 'ss_arbytes', type: 'u32', show: 'hex' },
  { name: 'tr_arbytes', type: 'u32', show: 'hex' },
  { name: 'ldtr_arbytes', type: 'u32', show: 'hex' },
  { name: 'sysenter_cs', type: 'u64' },
  { name: 'sysenter_esp', type: 'u64' },
  { name: 'sysenter_eip', type: 'u64' },
  { name: 'shadow_gs', type: 'u64', doc: 'MSR_KERNEL_GS_BASE' },
  { name: 'msr_flags', type: 'u64', doc: 'obsolete, ignored' },
  { name: 'msr_lstar', type: 'u64' },
  { name: 'msr_star', type: 'u64' },
  { name: 'msr_cstar', type: 'u64' },
  { name: 'msr_syscall_mask', type: 'u64' },
  { name: 'msr_efer', type: 'u64', bits: EFER_BITS },
] as const satisfies readonly FieldDef[];

/** Both forms' TSC and pending event, which follow the MSRs (msr_tsc_aux sits before them in the current form). */
const CPU_EVENT = [
  { name: 'tsc', type: 'u64', show: 'dec', doc: "the guest's TSC" },
  { name: 'pending_event', type: 'u32', bits: PENDING_EVENT_BITS, doc: 'bits 0–7 vector, 8–10 type, 11 error code valid, 31 valid' },
  { name: 'error_code', type: 'u32', show: 'hex' },
] as const satisfies readonly FieldDef[];

export const HVM_HW_CPU = defineLayout(
  'hvm_hw_cpu',
  [
    ...CPU_REGISTERS,
    { name: 'msr_tsc_aux', type: 'u64' },
    ...CPU_EVENT,
    { name: 'flags', type: 'u32', bits: { 0: 'fpu_initialised' } },
    { name: 'pad0', type: 'u32', reserved: 'HVM_CONTEXT_RESERVED', doc: 'hvm_load_cpu_ctxt refuses non-zero' },
  ],
  { size: 1032, doc: 'HVM vCPU state: FPU, general, control, debug and segment registers, MSRs, TSC, pending event.' },
);

export const HVM_HW_CPU_COMPAT = defineLayout('hvm_hw_cpu_compat', [...CPU_REGISTERS, ...CPU_EVENT], {
  size: 1016,
  doc: 'HVM vCPU state as saved before Xen 3.4 (no msr_tsc_aux, no flags).',
});
