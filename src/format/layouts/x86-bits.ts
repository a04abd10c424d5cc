import type { FieldDef } from '../layout.js';
/**
 * Names of the x86 architectural register bits the machine-state tables show
 * (Intel SDM vol. 3 §2.5 and §2.2.1; AMD APM vol. 2 §3.1). Data only.
 */

export const RFLAGS_BITS: Readonly<Record<number, string>> = {
  0: 'CF',
  2: 'PF',
  4: 'AF',
  6: 'ZF',
  7: 'SF',
  8: 'TF',
  9: 'IF',
  10: 'DF',
  11: 'OF',
  14: 'NT',
  16: 'RF',
  17: 'VM',
  18: 'AC',
  19: 'VIF',
  20: 'VIP',
  21: 'ID',
};

export const CR0_BITS: Readonly<Record<number, string>> = {
  0: 'PE',
  1: 'MP',
  2: 'EM',
  3: 'TS',
  4: 'ET',
  5: 'NE',
  16: 'WP',
  18: 'AM',
  29: 'NW',
  30: 'CD',
  31: 'PG',
};

export const CR4_BITS: Readonly<Record<number, string>> = {
  0: 'VME',
  1: 'PVI',
  2: 'TSD',
  3: 'DE',
  4: 'PSE',
  5: 'PAE',
  6: 'MCE',
  7: 'PGE',
  8: 'PCE',
  9: 'OSFXSR',
  10: 'OSXMMEXCPT',
  11: 'UMIP',
  12: 'LA57',
  13: 'VMXE',
  14: 'SMXE',
  16: 'FSGSBASE',
  17: 'PCIDE',
  18: 'OSXSAVE',
  20: 'SMEP',
  21: 'SMAP',
  22: 'PKE',
  23: 'CET',
  24: 'PKS',
};

export const EFER_BITS: Readonly<Record<number, string>> = { 0: 'SCE', 8: 'LME', 10: 'LMA', 11: 'NXE', 12: 'SVME', 13: 'LMSLE', 14: 'FFXSR', 15: 'TCE' };

/** XSAVE state components (bit of XCR0 / xstate_bv → name). */
export const XSTATE_BITS: Readonly<Record<number, string>> = {
  0: 'x87',
  1: 'SSE',
  2: 'AVX',
  3: 'BNDREGS',
  4: 'BNDCSR',
  5: 'opmask',
  6: 'ZMM_Hi256',
  7: 'Hi16_ZMM',
  8: 'PT',
  9: 'PKRU',
  10: 'PASID',
  11: 'CET_U',
  12: 'CET_S',
  13: 'HDC',
  14: 'UINTR',
  15: 'LBR',
  16: 'HWP',
  17: 'AMX_TILECFG',
  18: 'AMX_TILEDATA',
  63: 'compacted',
};

/**
 * The 64-bit general registers in the order an interrupt entry pushes them
 * (r15 first): how both Xen's cpu_user_regs and Linux's user_regs_struct
 * (a core's NT_PRSTATUS) begin.
 */
export const X86_64_PUSHED_GPRS = [
  { name: 'r15', type: 'u64' },
  { name: 'r14', type: 'u64' },
  { name: 'r13', type: 'u64' },
  { name: 'r12', type: 'u64' },
  { name: 'rbp', type: 'u64' },
  { name: 'rbx', type: 'u64' },
  { name: 'r11', type: 'u64' },
  { name: 'r10', type: 'u64' },
  { name: 'r9', type: 'u64' },
  { name: 'r8', type: 'u64' },
  { name: 'rax', type: 'u64' },
  { name: 'rcx', type: 'u64' },
  { name: 'rdx', type: 'u64' },
  { name: 'rsi', type: 'u64' },
  { name: 'rdi', type: 'u64' },
] as const satisfies readonly FieldDef[];
