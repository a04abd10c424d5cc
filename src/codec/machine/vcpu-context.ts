/**
 * A vCPU's saved context decoded with its table: an HVM save CPU entry
 * (hvm_hw_cpu, or the pre-3.4 compat form by its length) or a PV
 * X86_PV_VCPU_BASIC body (vcpu_guest_context, 64- or 32-bit guest by its size).
 */
import type { LayoutValue } from '../../format/layout.js';
import { HVM_HW_CPU, HVM_HW_CPU_COMPAT } from '../../format/layouts/hvm-cpu.js';
import { VCPU_GUEST_CONTEXT_X86_32, VCPU_GUEST_CONTEXT_X86_64 } from '../../format/layouts/pv-vcpu.js';
import { layoutCodec } from '../layout-codec.js';
import { hvmEntryLayout } from './entry-layouts.js';
import { decodeStruct } from './struct.js';

const HVM_SAVE_CODE_CPU = 2;

export type VcpuContext =
  | { readonly kind: 'hvm-cpu'; readonly value: LayoutValue<typeof HVM_HW_CPU> }
  | { readonly kind: 'hvm-cpu-compat'; readonly value: LayoutValue<typeof HVM_HW_CPU_COMPAT> }
  | { readonly kind: 'pv-64'; readonly value: LayoutValue<typeof VCPU_GUEST_CONTEXT_X86_64> }
  | { readonly kind: 'pv-32'; readonly value: LayoutValue<typeof VCPU_GUEST_CONTEXT_X86_32> };

/** The table each context kind is decoded with. */
export const VCPU_CONTEXT_LAYOUTS = {
  'hvm-cpu': HVM_HW_CPU,
  'hvm-cpu-compat': HVM_HW_CPU_COMPAT,
  'pv-64': VCPU_GUEST_CONTEXT_X86_64,
  'pv-32': VCPU_GUEST_CONTEXT_X86_32,
} as const;

/**
 * An HVM save CPU entry's data (without its descriptor), read as Xen 4.17
 * reads it: 1016 bytes is the compat layout; any other length from 1 to 1032
 * is hvm_hw_cpu zero-extended. Undefined when empty or longer.
 */
export function decodeHvmCpu(data: Uint8Array): VcpuContext | undefined {
  const layout = hvmEntryLayout(HVM_SAVE_CODE_CPU, data.length);
  if (layout === HVM_HW_CPU_COMPAT) return { kind: 'hvm-cpu-compat', value: layoutCodec(HVM_HW_CPU_COMPAT).decode(data) };
  if (layout !== HVM_HW_CPU) return undefined;
  return { kind: 'hvm-cpu', value: decodeStruct(HVM_HW_CPU, data).value as LayoutValue<typeof HVM_HW_CPU> };
}

/**
 * An X86_PV_VCPU_BASIC context (the body after its vcpu_id/reserved head).
 * The two guest widths' sizes differ, so the size says which; a guest width
 * from X86_PV_INFO (8 or 4), when given, must agree. Undefined when neither fits.
 */
export function decodePvVcpuContext(context: Uint8Array, guestWidth?: number): VcpuContext | undefined {
  if (context.length === VCPU_GUEST_CONTEXT_X86_64.size && guestWidth !== 4)
    return { kind: 'pv-64', value: layoutCodec(VCPU_GUEST_CONTEXT_X86_64).decode(context) };
  if (context.length === VCPU_GUEST_CONTEXT_X86_32.size && guestWidth !== 8)
    return { kind: 'pv-32', value: layoutCodec(VCPU_GUEST_CONTEXT_X86_32).decode(context) };
  return undefined;
}
