/**
 * The entries of Xen's HVM save blob (the body of HVM_CONTEXT), as Xen 4.17's
 * public/arch-x86/hvm/save.h declares them and its hvm_load() accepts them:
 * each entry is an 8-byte descriptor {u16 typecode, u16 instance, u32 length}
 * followed by `length` bytes, HEADER first, END (typecode 0, length 0) last.
 * Source: spec/FORMAT.md §5.10; sizes checked against the real Xen 4.17.5 saves
 * in fixtures/xen-4.17.
 */

/** Size of one entry's descriptor. */
export const HVM_SAVE_DESCRIPTOR_SIZE = 8;
export const HVM_SAVE_CODE_END = 0;
export const HVM_SAVE_CODE_HEADER = 1;
/** HVM_FILE_MAGIC and HVM_FILE_VERSION of the HEADER entry. */
export const HVM_FILE_MAGIC = 0x54381286;
export const HVM_FILE_VERSION = 1;

/**
 * How Xen 4.17 checks an entry's length:
 *  - exact:      length === size (hvm_load_entry);
 *  - zeroExtend: 0 < length ≤ size, the rest read as zeros (hvm_load_entry_zeroextend);
 *  - compat:     0 < length ≤ size, zero-extended, and length = compatSize is the
 *                pre-3.4 layout (CPU: hvm_load_entry_zeroextend + _hvm_hw_fix_cpu);
 *  - xsave:      ≥ size (the fixed part plus XSTATE_AREA_MIN_SIZE), the save area is variable;
 *  - msr:        8 + 16·count, count from the entry's first u32.
 */
export type HvmSaveLengthRule = 'exact' | 'zeroExtend' | 'compat' | 'xsave' | 'msr';

export interface HvmSaveEntryType {
  readonly typecode: number;
  readonly name: string;
  readonly size: number;
  readonly length: HvmSaveLengthRule;
  /** Instances allowed for a one-per-domain entry; undefined for per-vCPU entries (instance = vCPU id). */
  readonly maxInstance?: number | undefined;
  readonly compatSize?: number | undefined;
}

const T = (typecode: number, name: string, size: number, length: HvmSaveLengthRule, maxInstance?: number, compatSize?: number): HvmSaveEntryType =>
  Object.freeze({ typecode, name, size, length, maxInstance, compatSize });

/** Every typecode Xen 4.17 has a load handler for (HVM_SAVE_CODE_MAX = 20), plus END and HEADER. */
export const HVM_SAVE_ENTRY_TYPES: readonly HvmSaveEntryType[] = Object.freeze([
  T(0, 'END', 0, 'exact', 0),
  T(1, 'HEADER', 24, 'exact', 0), // u32 magic, u32 version, u64 changeset, u32 cpuid, u32 gtsc_khz
  T(2, 'CPU', 1032, 'compat', undefined, 1016), // struct hvm_hw_cpu; pre-3.4 hvm_hw_cpu_compat lacks msr_tsc_aux, flags, pad0
  T(3, 'PIC', 8, 'exact', 1), // instance 0 master, 1 slave
  T(4, 'IOAPIC', 400, 'exact', 0), // 48 redirection entries
  T(5, 'LAPIC', 24, 'zeroExtend'),
  T(6, 'LAPIC_REGS', 1024, 'exact'),
  T(7, 'PCI_IRQ', 16, 'exact', 0),
  T(8, 'ISA_IRQ', 8, 'exact', 0),
  T(9, 'PCI_LINK', 8, 'exact', 0),
  T(10, 'PIT', 56, 'exact', 0),
  T(11, 'RTC', 24, 'exact', 0), // cmos_data[14], cmos_index, pad, i64 rtc_offset
  T(12, 'HPET', 1048, 'exact', 0),
  T(13, 'PMTIMER', 8, 'exact', 0),
  T(14, 'MTRR', 240, 'exact'),
  T(15, 'VIRIDIAN_DOMAIN', 32, 'zeroExtend', 0),
  T(16, 'CPU_XSAVE', 24 + 512 + 64, 'xsave'),
  T(17, 'VIRIDIAN_VCPU', 216, 'zeroExtend'),
  T(18, 'VMCE_VCPU', 32, 'zeroExtend'),
  T(19, 'TSC_ADJUST', 8, 'exact'),
  T(20, 'CPU_MSR', 8, 'msr'), // u32 count, u32 reserved, then {u32 index, u32 reserved, u64 value}[count]
]);

export const HVM_SAVE_ENTRY_BY_CODE: ReadonlyMap<number, HvmSaveEntryType> = new Map(HVM_SAVE_ENTRY_TYPES.map((t) => [t.typecode, t]));
