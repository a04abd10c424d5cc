/** X86_TSC_INFO's body (spec/FORMAT.md §5.9; xg_sr_stream_format.h struct xc_sr_rec_tsc_info). */
import { defineLayout } from '../layout.js';

export const TSC_MODES: Readonly<Record<number, string>> = { 0: 'default', 1: 'always emulate', 2: 'never emulate', 3: 'pvrdtscp' };

export const X86_TSC_INFO = defineLayout(
  'X86_TSC_INFO',
  [
    { name: 'mode', type: 'u32', values: TSC_MODES },
    { name: 'khz', type: 'u32', unit: 'kHz' },
    { name: 'nsec', type: 'u64', unit: 'ns', show: 'dec' },
    { name: 'incarnation', type: 'u32' },
    { name: 'reserved', type: 'u32', reserved: 'TSC_INFO_RESERVED' },
  ],
  { size: 24, doc: 'TSC mode, frequency, elapsed time and incarnation of the guest.' },
);
