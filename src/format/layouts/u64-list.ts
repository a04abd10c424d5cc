/** One entry of a u64 list body: X86_PV_P2M_FRAMES' frames, CHECKPOINT_DIRTY_PFN_LIST's pfns. */
import { defineLayout } from '../layout.js';

export const U64_ENTRY = defineLayout('u64 entry', [{ name: 'value', type: 'u64' }], { size: 8 });
