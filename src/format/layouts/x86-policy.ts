/**
 * The entries of X86_CPUID_POLICY and X86_MSR_POLICY (spec/FORMAT.md; Xen's
 * xen/include/public/arch-x86/xen.h xen_cpuid_leaf_t and xen_msr_entry_t):
 * the record bodies are arrays of these.
 */
import { defineLayout } from '../layout.js';

/** Subleaf value of a leaf that has no subleaves. */
export const XEN_CPUID_NO_SUBLEAF = 0xffffffff;

export const XEN_CPUID_LEAF = defineLayout(
  'xen_cpuid_leaf_t',
  [
    { name: 'leaf', type: 'u32', show: 'hex' },
    { name: 'subleaf', type: 'u32', show: 'hex', doc: '0xffffffff: the leaf has no subleaves.' },
    { name: 'a', type: 'u32', show: 'hex' },
    { name: 'b', type: 'u32', show: 'hex' },
    { name: 'c', type: 'u32', show: 'hex' },
    { name: 'd', type: 'u32', show: 'hex' },
  ],
  { size: 24, doc: 'One CPUID leaf of the guest: the values of eax, ebx, ecx and edx it returns.' },
);

export const XEN_MSR_ENTRY = defineLayout(
  'xen_msr_entry_t',
  [
    { name: 'idx', type: 'u32', show: 'hex' },
    { name: 'flags', type: 'u32', show: 'hex', doc: 'Reserved, must be zero.' },
    { name: 'val', type: 'u64' },
  ],
  { size: 16, doc: 'One MSR of the guest policy: its index and value.' },
);
