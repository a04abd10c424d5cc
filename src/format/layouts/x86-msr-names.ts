/**
 * Names of the MSRs Xen 4.17 moves in HVM CPU_MSR entries and PV
 * X86_PV_VCPU_MSRS records (xen/arch/x86/hvm/hvm.c msrs_to_send,
 * xen/arch/x86/domctl.c; indices from xen/arch/x86/include/asm/msr-index.h).
 */
export const MSR_NAMES: Readonly<Record<number, string>> = Object.fromEntries([
  [0x10, 'TSC'],
  [0x3b, 'TSC_ADJUST'],
  [0x48, 'SPEC_CTRL'],
  [0x140, 'INTEL_MISC_FEATURES_ENABLES'],
  [0x1d9, 'DEBUGCTL'],
  [0x6e0, 'TSC_DEADLINE'],
  [0x6e1, 'PKRS'],
  [0xd90, 'BNDCFGS'],
  [0xda0, 'XSS'],
  [0xc0000080, 'EFER'],
  [0xc0000081, 'STAR'],
  [0xc0000082, 'LSTAR'],
  [0xc0000083, 'CSTAR'],
  [0xc0000084, 'SYSCALL_MASK'],
  [0xc0000100, 'FS_BASE'],
  [0xc0000101, 'GS_BASE'],
  [0xc0000102, 'KERNEL_GS_BASE'],
  [0xc0000103, 'TSC_AUX'],
  [0xc0011019, 'AMD64_DR1_ADDRESS_MASK'],
  [0xc001101a, 'AMD64_DR2_ADDRESS_MASK'],
  [0xc001101b, 'AMD64_DR3_ADDRESS_MASK'],
  [0xc0011027, 'AMD64_DR0_ADDRESS_MASK'],
  [0xc001011f, 'VIRT_SPEC_CTRL'],
]);
