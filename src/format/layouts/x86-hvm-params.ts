/** HVM_PARAMS (spec/FORMAT.md §5.11; xg_sr_stream_format.h struct xc_sr_rec_hvm_params{,_entry}). */
import { defineLayout } from '../layout.js';

export const HVM_PARAMS_HEAD = defineLayout(
  'HVM_PARAMS',
  [
    { name: 'count', type: 'u32', doc: 'Number of (index, value) entries that follow.' },
    { name: 'reserved', type: 'u32', reserved: 'HVM_PARAMS_RESERVED' },
  ],
  { size: 8, doc: 'u32 count, u32 reserved, then count entries.' },
);

export const HVM_PARAMS_ENTRY = defineLayout(
  'HVM_PARAMS entry',
  [
    { name: 'index', type: 'u64', show: 'dec', doc: 'HVM_PARAM_* index.' },
    { name: 'value', type: 'u64' },
  ],
  { size: 16 },
);
