/**
 * The PV vCPU records' bodies after their {u32 vcpu_id, u32 reserved} head
 * (spec/FORMAT.md §5.8): X86_PV_VCPU_BASIC is struct vcpu_guest_context in the
 * guest's width, as the toolstack sees it (Xen 4.17 public/arch-x86/xen.h,
 * xen-x86_64.h, xen-x86_32.h); X86_PV_VCPU_EXTENDED is
 * struct xen_domctl_ext_vcpucontext (public/domctl.h). In the stream, cr3
 * (ctrlreg[3], and ctrlreg[1] for a 64-bit guest's user tables) and gdt_frames
 * hold guest pfns, not machine frames: the save translates them.
 */
import { defineLayout } from '../layout.js';
import { RFLAGS_BITS, X86_64_PUSHED_GPRS, XSTATE_BITS } from './x86-bits.js';
import { FXSAVE_AREA, XSAVE_HEADER } from './x86-fpu.js';
import { HVM_VMCE_VCPU } from './hvm-devices.js';

/** VGCF_* bits of vcpu_guest_context.flags. */
export const VGCF_BITS: Readonly<Record<number, string>> = {
  0: 'i387_valid',
  2: 'in_kernel',
  3: 'failsafe_disables_events',
  4: 'syscall_disables_events',
  5: 'online',
};

/** VMASST_TYPE_* bits of vm_assist (public/xen.h). */
export const VMASST_BITS: Readonly<Record<number, string>> = {
  0: '4gb_segments',
  1: '4gb_segments_notify',
  2: 'writable_pagetables',
  3: 'pae_extended_cr3',
  4: 'architectural_iopl',
  5: 'runstate_update_flag',
  32: 'm2p_strict',
};

export const CPU_USER_REGS_X86_64 = defineLayout(
  'cpu_user_regs_x86_64',
  [
    ...X86_64_PUSHED_GPRS,
    { name: 'error_code', type: 'u32', show: 'hex', doc: 'private to Xen' },
    { name: 'entry_vector', type: 'u32', doc: 'private to Xen' },
    { name: 'rip', type: 'u64' },
    { name: 'cs', type: 'u16', show: 'hex' },
    { name: '_pad0', type: 'u16', padding: true },
    { name: 'saved_upcall_mask', type: 'u8' },
    { name: '_pad1', type: 'bytes', size: 3, padding: true },
    { name: 'rflags', type: 'u64', bits: RFLAGS_BITS, doc: 'IF is !saved_upcall_mask' },
    { name: 'rsp', type: 'u64' },
    { name: 'ss', type: 'u16', show: 'hex' },
    { name: '_pad2', type: 'bytes', size: 6, padding: true },
    { name: 'es', type: 'u16', show: 'hex' },
    { name: '_pad3', type: 'bytes', size: 6, padding: true },
    { name: 'ds', type: 'u16', show: 'hex' },
    { name: '_pad4', type: 'bytes', size: 6, padding: true },
    { name: 'fs', type: 'u16', show: 'hex' },
    { name: '_pad5', type: 'bytes', size: 6, padding: true },
    { name: 'gs', type: 'u16', show: 'hex' },
    { name: '_pad6', type: 'bytes', size: 6, padding: true },
  ],
  { size: 200 },
);

export const CPU_USER_REGS_X86_32 = defineLayout(
  'cpu_user_regs_x86_32',
  [
    { name: 'ebx', type: 'u32', show: 'hex' },
    { name: 'ecx', type: 'u32', show: 'hex' },
    { name: 'edx', type: 'u32', show: 'hex' },
    { name: 'esi', type: 'u32', show: 'hex' },
    { name: 'edi', type: 'u32', show: 'hex' },
    { name: 'ebp', type: 'u32', show: 'hex' },
    { name: 'eax', type: 'u32', show: 'hex' },
    { name: 'error_code', type: 'u16', show: 'hex', doc: 'private to Xen' },
    { name: 'entry_vector', type: 'u16', doc: 'private to Xen' },
    { name: 'eip', type: 'u32', show: 'hex' },
    { name: 'cs', type: 'u16', show: 'hex' },
    { name: 'saved_upcall_mask', type: 'u8' },
    { name: '_pad0', type: 'u8', padding: true },
    { name: 'eflags', type: 'u32', bits: RFLAGS_BITS, doc: 'IF is !saved_upcall_mask' },
    { name: 'esp', type: 'u32', show: 'hex' },
    { name: 'ss', type: 'u16', show: 'hex' },
    { name: '_pad1', type: 'u16', padding: true },
    { name: 'es', type: 'u16', show: 'hex' },
    { name: '_pad2', type: 'u16', padding: true },
    { name: 'ds', type: 'u16', show: 'hex' },
    { name: '_pad3', type: 'u16', padding: true },
    { name: 'fs', type: 'u16', show: 'hex' },
    { name: '_pad4', type: 'u16', padding: true },
    { name: 'gs', type: 'u16', show: 'hex' },
    { name: '_pad5', type: 'u16', padding: true },
  ],
  { size: 68 },
);

/** One virtual IDT entry (HYPERVISOR_set_trap_table); flags bits 0–1 DPL, bit 2 clear event enable. */
export const TRAP_INFO_X86_64 = defineLayout(
  'trap_info_x86_64',
  [
    { name: 'vector', type: 'u8' },
    { name: 'flags', type: 'u8', show: 'hex' },
    { name: 'cs', type: 'u16', show: 'hex' },
    { name: 'pad', type: 'u32', padding: true },
    { name: 'address', type: 'u64' },
  ],
  { size: 16 },
);

export const TRAP_INFO_X86_32 = defineLayout(
  'trap_info_x86_32',
  [
    { name: 'vector', type: 'u8' },
    { name: 'flags', type: 'u8', show: 'hex' },
    { name: 'cs', type: 'u16', show: 'hex' },
    { name: 'address', type: 'u32', show: 'hex' },
  ],
  { size: 8 },
);

export const VCPU_GUEST_CONTEXT_X86_64 = defineLayout(
  'vcpu_guest_context_x86_64',
  [
    { name: 'fpu_ctxt', type: FXSAVE_AREA },
    { name: 'flags', type: 'u64', bits: VGCF_BITS },
    { name: 'user_regs', type: CPU_USER_REGS_X86_64 },
    { name: 'trap_ctxt', type: TRAP_INFO_X86_64, count: 256, doc: 'virtual IDT' },
    { name: 'ldt_base', type: 'u64' },
    { name: 'ldt_ents', type: 'u64', show: 'dec' },
    { name: 'gdt_frames', type: 'u64', count: 16, unit: 'pfn' },
    { name: 'gdt_ents', type: 'u64', show: 'dec' },
    { name: 'kernel_ss', type: 'u64' },
    { name: 'kernel_sp', type: 'u64' },
    { name: 'ctrlreg', type: 'u64', count: 8, doc: 'cr0–cr7; cr3 = pfn << 12 (kernel tables), cr1 = user tables likewise' },
    { name: 'debugreg', type: 'u64', count: 8 },
    { name: 'event_callback_eip', type: 'u64' },
    { name: 'failsafe_callback_eip', type: 'u64' },
    { name: 'syscall_callback_eip', type: 'u64' },
    { name: 'vm_assist', type: 'u64', bits: VMASST_BITS },
    { name: 'fs_base', type: 'u64' },
    { name: 'gs_base_kernel', type: 'u64' },
    { name: 'gs_base_user', type: 'u64' },
  ],
  { size: 0x1430, doc: 'PV vCPU context of a 64-bit guest.' },
);

export const VCPU_GUEST_CONTEXT_X86_32 = defineLayout(
  'vcpu_guest_context_x86_32',
  [
    { name: 'fpu_ctxt', type: FXSAVE_AREA },
    { name: 'flags', type: 'u32', bits: VGCF_BITS },
    { name: 'user_regs', type: CPU_USER_REGS_X86_32 },
    { name: 'trap_ctxt', type: TRAP_INFO_X86_32, count: 256, doc: 'virtual IDT' },
    { name: 'ldt_base', type: 'u32', show: 'hex' },
    { name: 'ldt_ents', type: 'u32' },
    { name: 'gdt_frames', type: 'u32', count: 16, show: 'hex', unit: 'pfn' },
    { name: 'gdt_ents', type: 'u32' },
    { name: 'kernel_ss', type: 'u32', show: 'hex' },
    { name: 'kernel_sp', type: 'u32', show: 'hex' },
    { name: 'ctrlreg', type: 'u32', count: 8, show: 'hex', doc: 'cr0–cr7; cr3 = xen_pfn_to_cr3(pfn): pfn << 12 | pfn >> 20' },
    { name: 'debugreg', type: 'u32', count: 8, show: 'hex' },
    { name: 'event_callback_cs', type: 'u32', show: 'hex' },
    { name: 'event_callback_eip', type: 'u32', show: 'hex' },
    { name: 'failsafe_callback_cs', type: 'u32', show: 'hex' },
    { name: 'failsafe_callback_eip', type: 'u32', show: 'hex' },
    { name: 'vm_assist', type: 'u32', bits: VMASST_BITS },
  ],
  { size: 0xaf0, doc: 'PV vCPU context of a 32-bit guest.' },
);

/** X86_PV_VCPU_EXTENDED: the domctl's own vcpu and size words are part of the saved bytes. */
export const XEN_DOMCTL_EXT_VCPUCONTEXT = defineLayout(
  'xen_domctl_ext_vcpucontext',
  [
    { name: 'vcpu', type: 'u32' },
    { name: 'size', type: 'u32' },
    { name: 'syscall32_callback_eip', type: 'u64' },
    { name: 'sysenter_callback_eip', type: 'u64' },
    { name: 'syscall32_callback_cs', type: 'u16', show: 'hex' },
    { name: 'sysenter_callback_cs', type: 'u16', show: 'hex' },
    { name: 'syscall32_disables_events', type: 'u8' },
    { name: 'sysenter_disables_events', type: 'u8' },
    { name: 'pad', type: 'u16', padding: true },
    { name: 'vmce', type: HVM_VMCE_VCPU },
  ],
  { size: 64, doc: 'PV vCPU: 32-bit SYSCALL/SYSENTER callbacks and machine-check state.' },
);

/** X86_PV_VCPU_XSAVE's fixed part (Xen's getvcpuextstate buffer: xcr0, xcr0_accum, then the XSAVE area). */
export const PV_VCPU_XSAVE = defineLayout(
  'pv_vcpu_xsave',
  [
    { name: 'xcr0', type: 'u64', bits: XSTATE_BITS },
    { name: 'xcr0_accum', type: 'u64', bits: XSTATE_BITS },
    { name: 'fpu_sse', type: FXSAVE_AREA },
    { name: 'xsave_hdr', type: XSAVE_HEADER },
  ],
  { size: 592, doc: 'PV vCPU XSAVE state: XCR0, legacy area and XSAVE header.' },
);
