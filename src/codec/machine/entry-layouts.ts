/**
 * Which layout table decodes an HVM save entry or a PV vCPU record body, given
 * its length: fixed structs by typecode / record type, and for the variable
 * ones (CPU_MSR, CPU_XSAVE, X86_PV_VCPU_XSAVE, X86_PV_VCPU_MSRS) a layout
 * built for that length from the same tables (cached per length).
 */
import { defineLayout, type Layout } from '../../format/layout.js';
import { HVM_HW_CPU, HVM_HW_CPU_COMPAT } from '../../format/layouts/hvm-cpu.js';
import {
  HVM_HW_CPU_XSAVE,
  HVM_HW_HPET,
  HVM_HW_ISA_IRQS,
  HVM_HW_LAPIC,
  HVM_HW_LAPIC_REGS,
  HVM_HW_MTRR,
  HVM_HW_PCI_IRQS,
  HVM_HW_PCI_LINK,
  HVM_HW_PIT,
  HVM_HW_PMTIMER,
  HVM_HW_RTC,
  HVM_HW_VIOAPIC,
  HVM_HW_VPIC,
  HVM_MSR_HEAD,
  HVM_ONE_MSR,
  HVM_SAVE_HEADER,
  HVM_TSC_ADJUST,
  HVM_VIRIDIAN_DOMAIN_CONTEXT,
  HVM_VIRIDIAN_VCPU_CONTEXT,
  HVM_VMCE_VCPU,
} from '../../format/layouts/hvm-devices.js';
import { PV_VCPU_XSAVE, VCPU_GUEST_CONTEXT_X86_32, VCPU_GUEST_CONTEXT_X86_64, XEN_DOMCTL_EXT_VCPUCONTEXT } from '../../format/layouts/pv-vcpu.js';
import { HVM_SAVE_ENTRY_BY_CODE } from '../../format/hvm-save.js';

/** Fixed-size HVM save entries by typecode (CPU, CPU_XSAVE and CPU_MSR are chosen by length below). */
const HVM_FIXED: ReadonlyMap<number, Layout> = new Map<number, Layout>([
  [1, HVM_SAVE_HEADER],
  [3, HVM_HW_VPIC],
  [4, HVM_HW_VIOAPIC],
  [5, HVM_HW_LAPIC],
  [6, HVM_HW_LAPIC_REGS],
  [7, HVM_HW_PCI_IRQS],
  [8, HVM_HW_ISA_IRQS],
  [9, HVM_HW_PCI_LINK],
  [10, HVM_HW_PIT],
  [11, HVM_HW_RTC],
  [12, HVM_HW_HPET],
  [13, HVM_HW_PMTIMER],
  [14, HVM_HW_MTRR],
  [15, HVM_VIRIDIAN_DOMAIN_CONTEXT],
  [17, HVM_VIRIDIAN_VCPU_CONTEXT],
  [18, HVM_VMCE_VCPU],
  [19, HVM_TSC_ADJUST],
]);

const cache = new Map<string, Layout>();
function cached(key: string, make: () => Layout): Layout {
  let l = cache.get(key);
  if (!l) {
    l = make();
    cache.set(key, l);
  }
  return l;
}

/** A fixed part's fields followed by the rest of the entry as bytes (the XSAVE area's extended components). */
function withTail(head: Layout, length: number, tailName: string): Layout {
  if (length === head.size) return head;
  return cached(`${head.name}+${length}`, () =>
    defineLayout(head.name, [...head.fields, { name: tailName, type: 'bytes', size: length - head.size, json: 'base64' }]),
  );
}

function msrArray(name: string, head: Layout | undefined, count: number): Layout {
  return cached(`${name}[${count}]`, () => defineLayout(name, [...(head?.fields ?? []), { name: 'msr', type: HVM_ONE_MSR, count }]));
}

/** The layout an HVM save entry's data decodes with, or undefined (unknown typecode, impossible length). */
export function hvmEntryLayout(typecode: number, length: number): Layout | undefined {
  const type = HVM_SAVE_ENTRY_BY_CODE.get(typecode);
  if (!type || typecode === 0) return undefined;
  if (typecode === 2) {
    if (length === HVM_HW_CPU_COMPAT.size) return HVM_HW_CPU_COMPAT;
    return length > 0 && length <= HVM_HW_CPU.size ? HVM_HW_CPU : undefined;
  }
  if (typecode === 16) return length >= HVM_HW_CPU_XSAVE.size ? withTail(HVM_HW_CPU_XSAVE, length, 'extended') : undefined;
  if (typecode === 20) {
    if (length < HVM_MSR_HEAD.size || (length - HVM_MSR_HEAD.size) % HVM_ONE_MSR.size !== 0) return undefined;
    return msrArray('hvm_msr', HVM_MSR_HEAD, (length - HVM_MSR_HEAD.size) / HVM_ONE_MSR.size);
  }
  const layout = HVM_FIXED.get(typecode);
  if (!layout) return undefined;
  const shortOk = type.length === 'zeroExtend' && length > 0;
  return length === layout.size || (shortOk && length < layout.size) ? layout : undefined;
}

/** The layout of a PV vCPU record's context (the body after vcpu_id/reserved), or undefined. */
export function pvVcpuLayout(recordName: string, length: number): Layout | undefined {
  switch (recordName) {
    case 'X86_PV_VCPU_BASIC':
      return length === VCPU_GUEST_CONTEXT_X86_64.size
        ? VCPU_GUEST_CONTEXT_X86_64
        : length === VCPU_GUEST_CONTEXT_X86_32.size
          ? VCPU_GUEST_CONTEXT_X86_32
          : undefined;
    case 'X86_PV_VCPU_EXTENDED':
      // Xen returns its sizeof; a shorter one (older Xen) is the same struct, cut.
      return length > 8 && length <= XEN_DOMCTL_EXT_VCPUCONTEXT.size ? XEN_DOMCTL_EXT_VCPUCONTEXT : undefined;
    case 'X86_PV_VCPU_XSAVE':
      return length >= PV_VCPU_XSAVE.size ? withTail(PV_VCPU_XSAVE, length, 'extended') : undefined;
    case 'X86_PV_VCPU_MSRS':
      return length > 0 && length % HVM_ONE_MSR.size === 0 ? msrArray('xen_domctl_vcpu_msr', undefined, length / HVM_ONE_MSR.size) : undefined;
    default:
      return undefined;
  }
}
