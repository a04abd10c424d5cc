/**
 * The device and per-vCPU entries of the HVM save blob other than CPU (Xen
 * 4.17 public/arch-x86/hvm/save.h): one table per struct, named as save.h
 * names them. C bitfields that share a byte are one field whose single-bit
 * members are named flag bits (multi-bit members are described in its doc).
 */
import { defineLayout } from '../layout.js';
import { XSTATE_BITS } from './x86-bits.js';
import { FXSAVE_AREA, XSAVE_HEADER } from './x86-fpu.js';
import { MSR_NAMES } from '../msr-names.js';

export const HVM_SAVE_HEADER = defineLayout(
  'hvm_save_header',
  [
    { name: 'magic', type: 'u32', show: 'hex' },
    { name: 'version', type: 'u32' },
    { name: 'changeset', type: 'u64', doc: 'version of Xen that saved the blob' },
    { name: 'cpuid', type: 'u32', show: 'hex', doc: 'CPUID leaf 1 eax of the saving host' },
    { name: 'gtsc_khz', type: 'u32', unit: 'kHz' },
  ],
  { size: 24, doc: 'HVM save blob header.' },
);

export const HVM_HW_VPIC = defineLayout(
  'hvm_hw_vpic',
  [
    { name: 'irr', type: 'u8', show: 'hex' },
    { name: 'imr', type: 'u8', show: 'hex' },
    { name: 'isr', type: 'u8', show: 'hex' },
    { name: 'irq_base', type: 'u8', show: 'hex' },
    { name: 'init_state', type: 'u8', show: 'hex', doc: 'bits 0–3 init_state (ICW sequence position), bits 4–7 priority_add' },
    {
      name: 'mode',
      type: 'u8',
      bits: { 0: 'readsel_isr', 1: 'poll', 2: 'auto_eoi', 3: 'rotate_on_auto_eoi', 4: 'special_fully_nested_mode', 5: 'special_mask_mode', 6: 'is_master' },
    },
    { name: 'elcr', type: 'u8', show: 'hex' },
    { name: 'int_output', type: 'u8' },
  ],
  { size: 8, doc: '8259 PIC (instance 0 master, 1 slave).' },
);

export const VIOAPIC_REDIR_ENTRY = defineLayout(
  'vioapic_redir_entry',
  [
    { name: 'vector', type: 'u8', show: 'hex' },
    {
      name: 'mode',
      type: 'u8',
      bits: { 3: 'dest_logical', 4: 'delivery_pending', 5: 'polarity_low', 6: 'remote_irr', 7: 'trig_level' },
      doc: 'bits 0–2 delivery_mode',
    },
    { name: 'mask', type: 'u8', bits: { 0: 'masked' }, doc: 'bits 1–7 reserve' },
    { name: 'reserved', type: 'bytes', size: 4 },
    { name: 'dest_id', type: 'u8', show: 'hex' },
  ],
  { size: 8 },
);

export const HVM_HW_VIOAPIC = defineLayout(
  'hvm_hw_vioapic',
  [
    { name: 'base_address', type: 'u64' },
    { name: 'ioregsel', type: 'u32', show: 'hex' },
    { name: 'id', type: 'u32' },
    { name: 'redirtbl', type: VIOAPIC_REDIR_ENTRY, count: 48, doc: '16 ISA then 32 PCI pins' },
  ],
  { size: 400, doc: 'I/O APIC with its redirection table.' },
);

export const HVM_HW_LAPIC = defineLayout(
  'hvm_hw_lapic',
  [
    { name: 'apic_base_msr', type: 'u64', bits: { 8: 'BSP', 10: 'x2APIC', 11: 'enabled' } },
    { name: 'disabled', type: 'u32', bits: { 0: 'software', 1: 'hardware' } },
    { name: 'timer_divisor', type: 'u32' },
    { name: 'tdt_msr', type: 'u64', doc: 'TSC deadline' },
  ],
  { size: 24, doc: 'Local APIC state outside its register page.' },
);

/** The local APIC's register page (first 1 KiB): each 32-bit register in a 16-byte slot. */
export const HVM_HW_LAPIC_REGS = defineLayout(
  'hvm_hw_lapic_regs',
  [
    { name: 'reserved_000', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_000_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_010', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_010_pad', type: 'bytes', size: 12, padding: true },
    { name: 'id', type: 'u32', show: 'hex' },
    { name: 'id_pad', type: 'bytes', size: 12, padding: true },
    { name: 'version', type: 'u32', show: 'hex' },
    { name: 'version_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_040', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_040_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_050', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_050_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_060', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_060_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_070', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_070_pad', type: 'bytes', size: 12, padding: true },
    { name: 'tpr', type: 'u32', show: 'hex' },
    { name: 'tpr_pad', type: 'bytes', size: 12, padding: true },
    { name: 'apr', type: 'u32', show: 'hex' },
    { name: 'apr_pad', type: 'bytes', size: 12, padding: true },
    { name: 'ppr', type: 'u32', show: 'hex' },
    { name: 'ppr_pad', type: 'bytes', size: 12, padding: true },
    { name: 'eoi', type: 'u32', show: 'hex' },
    { name: 'eoi_pad', type: 'bytes', size: 12, padding: true },
    { name: 'rrd', type: 'u32', show: 'hex' },
    { name: 'rrd_pad', type: 'bytes', size: 12, padding: true },
    { name: 'ldr', type: 'u32', show: 'hex' },
    { name: 'ldr_pad', type: 'bytes', size: 12, padding: true },
    { name: 'dfr', type: 'u32', show: 'hex' },
    { name: 'dfr_pad', type: 'bytes', size: 12, padding: true },
    { name: 'svr', type: 'u32', show: 'hex' },
    { name: 'svr_pad', type: 'bytes', size: 12, padding: true },
    { name: 'isr0', type: 'u32', show: 'hex' },
    { name: 'isr0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'isr1', type: 'u32', show: 'hex' },
    { name: 'isr1_pad', type: 'bytes', size: 12, padding: true },
    { name: 'isr2', type: 'u32', show: 'hex' },
    { name: 'isr2_pad', type: 'bytes', size: 12, padding: true },
    { name: 'isr3', type: 'u32', show: 'hex' },
    { name: 'isr3_pad', type: 'bytes', size: 12, padding: true },
    { name: 'isr4', type: 'u32', show: 'hex' },
    { name: 'isr4_pad', type: 'bytes', size: 12, padding: true },
    { name: 'isr5', type: 'u32', show: 'hex' },
    { name: 'isr5_pad', type: 'bytes', size: 12, padding: true },
    { name: 'isr6', type: 'u32', show: 'hex' },
    { name: 'isr6_pad', type: 'bytes', size: 12, padding: true },
    { name: 'isr7', type: 'u32', show: 'hex' },
    { name: 'isr7_pad', type: 'bytes', size: 12, padding: true },
    { name: 'tmr0', type: 'u32', show: 'hex' },
    { name: 'tmr0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'tmr1', type: 'u32', show: 'hex' },
    { name: 'tmr1_pad', type: 'bytes', size: 12, padding: true },
    { name: 'tmr2', type: 'u32', show: 'hex' },
    { name: 'tmr2_pad', type: 'bytes', size: 12, padding: true },
    { name: 'tmr3', type: 'u32', show: 'hex' },
    { name: 'tmr3_pad', type: 'bytes', size: 12, padding: true },
    { name: 'tmr4', type: 'u32', show: 'hex' },
    { name: 'tmr4_pad', type: 'bytes', size: 12, padding: true },
    { name: 'tmr5', type: 'u32', show: 'hex' },
    { name: 'tmr5_pad', type: 'bytes', size: 12, padding: true },
    { name: 'tmr6', type: 'u32', show: 'hex' },
    { name: 'tmr6_pad', type: 'bytes', size: 12, padding: true },
    { name: 'tmr7', type: 'u32', show: 'hex' },
    { name: 'tmr7_pad', type: 'bytes', size: 12, padding: true },
    { name: 'irr0', type: 'u32', show: 'hex' },
    { name: 'irr0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'irr1', type: 'u32', show: 'hex' },
    { name: 'irr1_pad', type: 'bytes', size: 12, padding: true },
    { name: 'irr2', type: 'u32', show: 'hex' },
    { name: 'irr2_pad', type: 'bytes', size: 12, padding: true },
    { name: 'irr3', type: 'u32', show: 'hex' },
    { name: 'irr3_pad', type: 'bytes', size: 12, padding: true },
    { name: 'irr4', type: 'u32', show: 'hex' },
    { name: 'irr4_pad', type: 'bytes', size: 12, padding: true },
    { name: 'irr5', type: 'u32', show: 'hex' },
    { name: 'irr5_pad', type: 'bytes', size: 12, padding: true },
    { name: 'irr6', type: 'u32', show: 'hex' },
    { name: 'irr6_pad', type: 'bytes', size: 12, padding: true },
    { name: 'irr7', type: 'u32', show: 'hex' },
    { name: 'irr7_pad', type: 'bytes', size: 12, padding: true },
    { name: 'esr', type: 'u32', show: 'hex' },
    { name: 'esr_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_290', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_290_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_2a0', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_2a0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_2b0', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_2b0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_2c0', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_2c0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_2d0', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_2d0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_2e0', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_2e0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'lvt_cmci', type: 'u32', show: 'hex' },
    { name: 'lvt_cmci_pad', type: 'bytes', size: 12, padding: true },
    { name: 'icr_lo', type: 'u32', show: 'hex' },
    { name: 'icr_lo_pad', type: 'bytes', size: 12, padding: true },
    { name: 'icr_hi', type: 'u32', show: 'hex' },
    { name: 'icr_hi_pad', type: 'bytes', size: 12, padding: true },
    { name: 'lvt_timer', type: 'u32', show: 'hex' },
    { name: 'lvt_timer_pad', type: 'bytes', size: 12, padding: true },
    { name: 'lvt_thermal', type: 'u32', show: 'hex' },
    { name: 'lvt_thermal_pad', type: 'bytes', size: 12, padding: true },
    { name: 'lvt_pmc', type: 'u32', show: 'hex' },
    { name: 'lvt_pmc_pad', type: 'bytes', size: 12, padding: true },
    { name: 'lvt_lint0', type: 'u32', show: 'hex' },
    { name: 'lvt_lint0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'lvt_lint1', type: 'u32', show: 'hex' },
    { name: 'lvt_lint1_pad', type: 'bytes', size: 12, padding: true },
    { name: 'lvt_error', type: 'u32', show: 'hex' },
    { name: 'lvt_error_pad', type: 'bytes', size: 12, padding: true },
    { name: 'timer_initial_count', type: 'u32', show: 'hex' },
    { name: 'timer_initial_count_pad', type: 'bytes', size: 12, padding: true },
    { name: 'timer_current_count', type: 'u32', show: 'hex' },
    { name: 'timer_current_count_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_3a0', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_3a0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_3b0', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_3b0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_3c0', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_3c0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_3d0', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_3d0_pad', type: 'bytes', size: 12, padding: true },
    { name: 'timer_divide_config', type: 'u32', show: 'hex' },
    { name: 'timer_divide_config_pad', type: 'bytes', size: 12, padding: true },
    { name: 'reserved_3f0', type: 'u32', show: 'hex', doc: 'reserved register slot' },
    { name: 'reserved_3f0_pad', type: 'bytes', size: 12, padding: true },
  ],
  { size: 1024, doc: 'Local APIC registers.' },
);

export const HVM_HW_PCI_IRQS = defineLayout('hvm_hw_pci_irqs', [{ name: 'i', type: 'u64', count: 2, doc: 'wire bitmap, bit device×4 + INTx' }], {
  size: 16,
  doc: 'PCI INTx wires.',
});

export const HVM_HW_ISA_IRQS = defineLayout('hvm_hw_isa_irqs', [{ name: 'i', type: 'u64', doc: 'wire bitmap, bit = ISA IRQ' }], {
  size: 8,
  doc: 'ISA IRQ wires.',
});

export const HVM_HW_PCI_LINK = defineLayout(
  'hvm_hw_pci_link',
  [
    { name: 'route', type: 'u8', count: 4, doc: 'GSI of each PCI-ISA link' },
    { name: 'pad0', type: 'bytes', size: 4, padding: true },
  ],
  { size: 8, doc: 'PCI-ISA interrupt router.' },
);

export const HVM_HW_PIT_CHANNEL = defineLayout(
  'hvm_hw_pit_channel',
  [
    { name: 'count', type: 'u32' },
    { name: 'latched_count', type: 'u16' },
    { name: 'count_latched', type: 'u8' },
    { name: 'status_latched', type: 'u8' },
    { name: 'status', type: 'u8', show: 'hex' },
    { name: 'read_state', type: 'u8' },
    { name: 'write_state', type: 'u8' },
    { name: 'write_latch', type: 'u8' },
    { name: 'rw_mode', type: 'u8' },
    { name: 'mode', type: 'u8' },
    { name: 'bcd', type: 'u8' },
    { name: 'gate', type: 'u8' },
  ],
  { size: 16 },
);

export const HVM_HW_PIT = defineLayout(
  'hvm_hw_pit',
  [
    { name: 'channels', type: HVM_HW_PIT_CHANNEL, count: 3 },
    { name: 'speaker_data_on', type: 'u32' },
    { name: 'pad0', type: 'u32', padding: true },
  ],
  { size: 56, doc: '8254 PIT.' },
);

/** The 14 CMOS bytes Xen keeps are the MC146818 clock registers 0x0–0xd (BCD or binary per status_b). */
export const HVM_HW_RTC = defineLayout(
  'hvm_hw_rtc',
  [
    { name: 'seconds', type: 'u8', show: 'hex' },
    { name: 'seconds_alarm', type: 'u8', show: 'hex' },
    { name: 'minutes', type: 'u8', show: 'hex' },
    { name: 'minutes_alarm', type: 'u8', show: 'hex' },
    { name: 'hours', type: 'u8', show: 'hex' },
    { name: 'hours_alarm', type: 'u8', show: 'hex' },
    { name: 'day_of_week', type: 'u8', show: 'hex' },
    { name: 'day_of_month', type: 'u8', show: 'hex' },
    { name: 'month', type: 'u8', show: 'hex' },
    { name: 'year', type: 'u8', show: 'hex' },
    { name: 'status_a', type: 'u8', show: 'hex' },
    { name: 'status_b', type: 'u8', show: 'hex' },
    { name: 'status_c', type: 'u8', show: 'hex' },
    { name: 'status_d', type: 'u8', show: 'hex' },
    { name: 'cmos_index', type: 'u8', show: 'hex' },
    { name: 'pad0', type: 'u8', padding: true },
    { name: 'rtc_offset', type: 'i64', unit: 's', doc: 'offset from host time' },
  ],
  { size: 24, doc: 'RTC: CMOS clock registers.' },
);

export const HPET_TIMER = defineLayout(
  'hpet_timer',
  [
    { name: 'config', type: 'u64' },
    { name: 'cmp', type: 'u64' },
    { name: 'fsb', type: 'u64' },
    { name: 'res4', type: 'u64' },
  ],
  { size: 32 },
);

export const HVM_HW_HPET = defineLayout(
  'hvm_hw_hpet',
  [
    { name: 'capability', type: 'u64' },
    { name: 'res0', type: 'u64' },
    { name: 'config', type: 'u64' },
    { name: 'res1', type: 'u64' },
    { name: 'isr', type: 'u64' },
    { name: 'res2', type: 'u64', count: 25 },
    { name: 'mc64', type: 'u64', doc: 'main counter' },
    { name: 'res3', type: 'u64' },
    { name: 'timers', type: HPET_TIMER, count: 3 },
    { name: 'res5', type: 'u64', count: 84 },
    { name: 'period', type: 'u64', count: 3, doc: 'last value written to each comparator' },
  ],
  { size: 1048, doc: 'HPET registers and hidden state.' },
);

export const HVM_HW_PMTIMER = defineLayout(
  'hvm_hw_pmtimer',
  [
    { name: 'tmr_val', type: 'u32' },
    { name: 'pm1a_sts', type: 'u16', show: 'hex' },
    { name: 'pm1a_en', type: 'u16', show: 'hex' },
  ],
  { size: 8, doc: 'ACPI PM timer.' },
);

export const MTRR_VAR_RANGE = defineLayout(
  'mtrr_var_range',
  [
    { name: 'base', type: 'u64', doc: 'bits 0–7 memory type' },
    { name: 'mask', type: 'u64', bits: { 11: 'valid' } },
  ],
  { size: 16 },
);

export const HVM_HW_MTRR = defineLayout(
  'hvm_hw_mtrr',
  [
    { name: 'msr_pat_cr', type: 'u64' },
    { name: 'msr_mtrr_var', type: MTRR_VAR_RANGE, count: 8 },
    { name: 'msr_mtrr_fixed', type: 'u64', count: 11 },
    { name: 'msr_mtrr_cap', type: 'u64', bits: { 8: 'fixed', 10: 'WC', 11: 'SMRR' }, doc: 'bits 0–7 variable range count' },
    { name: 'msr_mtrr_def_type', type: 'u64', bits: { 10: 'fixed_enabled', 11: 'enabled' }, doc: 'bits 0–7 default type' },
  ],
  { size: 240, doc: 'MTRRs and PAT.' },
);

export const HVM_VIRIDIAN_DOMAIN_CONTEXT = defineLayout(
  'hvm_viridian_domain_context',
  [
    { name: 'hypercall_gpa', type: 'u64' },
    { name: 'guest_os_id', type: 'u64' },
    { name: 'time_ref_count', type: 'u64' },
    { name: 'reference_tsc', type: 'u64' },
  ],
  { size: 32, doc: 'Viridian (Hyper-V) domain state.' },
);

export const HVM_VIRIDIAN_VCPU_CONTEXT = defineLayout(
  'hvm_viridian_vcpu_context',
  [
    { name: 'vp_assist_msr', type: 'u64' },
    { name: 'apic_assist_pending', type: 'u8' },
    { name: '_pad', type: 'bytes', size: 7, padding: true },
    { name: 'simp_msr', type: 'u64' },
    { name: 'sint_msr', type: 'u64', count: 16 },
    { name: 'stimer_config_msr', type: 'u64', count: 4 },
    { name: 'stimer_count_msr', type: 'u64', count: 4 },
  ],
  { size: 216, doc: 'Viridian (Hyper-V) vCPU state.' },
);

export const HVM_VMCE_VCPU = defineLayout(
  'hvm_vmce_vcpu',
  [
    { name: 'caps', type: 'u64', doc: 'MCG_CAP' },
    { name: 'mci_ctl2_bank0', type: 'u64' },
    { name: 'mci_ctl2_bank1', type: 'u64' },
    { name: 'mcg_ext_ctl', type: 'u64' },
  ],
  { size: 32, doc: 'Virtual machine-check state.' },
);

export const HVM_TSC_ADJUST = defineLayout('hvm_tsc_adjust', [{ name: 'tsc_adjust', type: 'u64' }], { size: 8, doc: 'IA32_TSC_ADJUST.' });

/** CPU_XSAVE's fixed part; the extended components' save area follows it (variable length). */
export const HVM_HW_CPU_XSAVE = defineLayout(
  'hvm_hw_cpu_xsave',
  [
    { name: 'xfeature_mask', type: 'u64', doc: 'ignored' },
    { name: 'xcr0', type: 'u64', bits: XSTATE_BITS },
    { name: 'xcr0_accum', type: 'u64', bits: XSTATE_BITS },
    { name: 'fpu_sse', type: FXSAVE_AREA },
    { name: 'xsave_hdr', type: XSAVE_HEADER },
  ],
  { size: 600, doc: 'XSAVE state: XCR0, legacy area and XSAVE header.' },
);

/** CPU_MSR's head: the count, then (C alignment) 4 bytes before the array. */
export const HVM_MSR_HEAD = defineLayout(
  'hvm_msr',
  [
    { name: 'count', type: 'u32' },
    { name: 'pad', type: 'u32', padding: true },
  ],
  { size: 8 },
);

/** One saved MSR (hvm_one_msr; the PV record's xen_domctl_vcpu_msr has the same bytes). */
export const HVM_ONE_MSR = defineLayout(
  'hvm_one_msr',
  [
    { name: 'index', type: 'u32', show: 'hex', values: MSR_NAMES },
    { name: '_rsvd', type: 'u32', reserved: 'HVM_CONTEXT_RESERVED', doc: 'hvm_load_cpu_msrs refuses non-zero' },
    { name: 'val', type: 'u64' },
  ],
  { size: 16 },
);
