/**
 * The 512-byte FXSAVE image (Intel SDM vol. 1 §10.5.1, 64-bit form) that
 * hvm_hw_cpu.fpu_regs, vcpu_guest_context.fpu_ctxt and the legacy region of
 * an XSAVE area hold; and the 64-byte XSAVE header after it (SDM §13.4.2).
 */
import { defineLayout } from '../layout.js';
import { XSTATE_BITS } from './x86-bits.js';

/** One x87 register slot: 80-bit value in a 16-byte slot. */
export const X87_REGISTER = defineLayout(
  'x87_register',
  [
    { name: 'significand', type: 'u64' },
    { name: 'sign_exponent', type: 'u16', show: 'hex' },
    { name: 'pad', type: 'bytes', size: 6, padding: true },
  ],
  { size: 16 },
);

export const XMM_REGISTER = defineLayout(
  'xmm_register',
  [
    { name: 'lo', type: 'u64' },
    { name: 'hi', type: 'u64' },
  ],
  { size: 16 },
);

export const FXSAVE_AREA = defineLayout(
  'fxsave_area',
  [
    { name: 'fcw', type: 'u16', show: 'hex' },
    { name: 'fsw', type: 'u16', show: 'hex' },
    { name: 'ftw', type: 'u8', show: 'hex', doc: 'abridged tag word: bit i set = st(i) valid' },
    { name: 'rsvd1', type: 'u8', padding: true },
    { name: 'fop', type: 'u16', show: 'hex' },
    { name: 'fip', type: 'u64' },
    { name: 'fdp', type: 'u64' },
    { name: 'mxcsr', type: 'u32', show: 'hex' },
    { name: 'mxcsr_mask', type: 'u32', show: 'hex' },
    { name: 'st', type: X87_REGISTER, count: 8 },
    { name: 'xmm', type: XMM_REGISTER, count: 16 },
    { name: 'available', type: 'bytes', size: 96, doc: 'reserved and software-available bytes 416–511' },
  ],
  { size: 512, doc: 'FXSAVE image: x87 and SSE state.' },
);

export const XSAVE_HEADER = defineLayout(
  'xsave_header',
  [
    { name: 'xstate_bv', type: 'u64', bits: XSTATE_BITS, doc: 'components whose state is in the area (others are in their initial state)' },
    { name: 'xcomp_bv', type: 'u64', bits: XSTATE_BITS, doc: 'bit 63 set: compacted format (XSAVEC/XSAVES), else standard' },
    { name: 'reserved', type: 'u64', count: 6 },
  ],
  { size: 64, doc: 'XSAVE header.' },
);
