/**
 * Names of the MSRs a save carries (the X86_MSR_POLICY record, HVM CPU_MSR
 * entries and PV X86_PV_VCPU_MSRS records: xen/arch/x86/hvm/hvm.c msrs_to_send,
 * xen/arch/x86/domctl.c), as Xen 4.17's xen/arch/x86/include/asm/msr-index.h
 * spells them without the MSR_ prefix. Only the MSRs that can appear in a save or a
 * policy are listed; anything else is shown by index.
 */
export const MSR_NAMES: Readonly<Record<number, string>> = Object.fromEntries([
  [0x10, 'IA32_TSC'],
  [0x1b, 'APIC_BASE'],
  [0x3a, 'IA32_FEATURE_CONTROL'],
  [0x3b, 'IA32_TSC_ADJUST'],
  [0x48, 'SPEC_CTRL'],
  [0x8b, 'IA32_UCODE_REV'],
  [0xce, 'INTEL_PLATFORM_INFO'],
  [0xcf, 'CORE_CAPABILITIES'],
  [0xfe, 'MTRRcap'],
  [0x10a, 'ARCH_CAPABILITIES'],
  [0x122, 'TSX_CTRL'],
  [0x123, 'MCU_OPT_CTRL'],
  [0x140, 'INTEL_MISC_FEATURES_ENABLES'],
  [0x174, 'IA32_SYSENTER_CS'],
  [0x175, 'IA32_SYSENTER_ESP'],
  [0x176, 'IA32_SYSENTER_EIP'],
  [0x179, 'IA32_MCG_CAP'],
  [0x17a, 'IA32_MCG_STATUS'],
  [0x17b, 'IA32_MCG_CTL'],
  [0x1a0, 'IA32_MISC_ENABLE'],
  [0x1d9, 'IA32_DEBUGCTLMSR'],
  [0x250, 'MTRRfix64K_00000'],
  [0x258, 'MTRRfix16K_80000'],
  [0x259, 'MTRRfix16K_A0000'],
  [0x268, 'MTRRfix4K_C0000'],
  [0x269, 'MTRRfix4K_C8000'],
  [0x26a, 'MTRRfix4K_D0000'],
  [0x26b, 'MTRRfix4K_D8000'],
  [0x26c, 'MTRRfix4K_E0000'],
  [0x26d, 'MTRRfix4K_E8000'],
  [0x26e, 'MTRRfix4K_F0000'],
  [0x26f, 'MTRRfix4K_F8000'],
  [0x277, 'IA32_CR_PAT'],
  [0x2ff, 'MTRRdefType'],
  [0x6a0, 'U_CET'],
  [0x6a2, 'S_CET'],
  [0x6e0, 'IA32_TSC_DEADLINE'],
  [0x6e1, 'PKRS'],
  [0xd90, 'IA32_BNDCFGS'],
  [0xda0, 'IA32_XSS'],
  [0xc0000080, 'EFER'],
  [0xc0000081, 'STAR'],
  [0xc0000082, 'LSTAR'],
  [0xc0000083, 'CSTAR'],
  [0xc0000084, 'SYSCALL_MASK'],
  [0xc0000100, 'FS_BASE'],
  [0xc0000101, 'GS_BASE'],
  [0xc0000102, 'SHADOW_GS_BASE'],
  [0xc0000103, 'TSC_AUX'],
  [0xc001011f, 'VIRT_SPEC_CTRL'],
  [0xc0011027, 'AMD64_DR0_ADDRESS_MASK'],
  [0xc0011019, 'AMD64_DR1_ADDRESS_MASK'],
  [0xc001101a, 'AMD64_DR2_ADDRESS_MASK'],
  [0xc001101b, 'AMD64_DR3_ADDRESS_MASK'],
]);

/** An MSR index in words: `0x10a (ARCH_CAPABILITIES)`. */
export function msrText(idx: number): string {
  const name = MSR_NAMES[idx];
  return `0x${idx.toString(16)}${name ? ` (${name})` : ''}`;
}

/** Named bits of MSRs that are not feature words (MSR_ARCH_CAPS's are, in cpu-features.ts). */
export const MSR_BITS: Readonly<Record<number, Readonly<Record<number, string>>>> = Object.fromEntries([[0xce, { 31: 'cpuid_faulting' }]]);
