/** x86 PV static data: X86_PV_INFO and the head of X86_PV_P2M_FRAMES (spec/FORMAT.md §5.6–5.7; xg_sr_stream_format.h). */
import { defineLayout } from '../layout.js';

export const X86_PV_INFO = defineLayout(
  'X86_PV_INFO',
  [
    { name: 'guestWidth', type: 'u8', unit: 'bytes', doc: 'guest_width: 4 (32-bit) or 8 (64-bit).' },
    { name: 'ptLevels', type: 'u8', doc: 'pt_levels: 3 (32-bit) or 4 (64-bit).' },
    { name: 'reserved', type: 'bytes', size: 6, reserved: 'PV_INFO_RESERVED', doc: '_res[6]' },
  ],
  { size: 8, doc: 'Width and page-table levels of a PV guest.' },
);

/** X86_PV_P2M_FRAMES: this head, then u64 p2m_pfns[] (one per P2M frame). */
export const X86_PV_P2M_FRAMES_HEAD = defineLayout(
  'X86_PV_P2M_FRAMES',
  [
    { name: 'startPfn', type: 'u32', show: 'hex', doc: 'start_pfn' },
    { name: 'endPfn', type: 'u32', show: 'hex', doc: 'end_pfn (inclusive)' },
  ],
  { size: 8, doc: 'The pfn range the frames that follow cover.' },
);
