/** PAGE_DATA and the RFC's pfn lists (spec/FORMAT.md §5.5; xg_sr_stream_format.h struct xc_sr_rec_page_data_header). */
import { defineLayout } from '../layout.js';

/** The head; then u64 pfn[count] (type in bits 63–60, reserved 59–52, pfn 51–0), then the pages. */
export const PAGE_DATA_HEAD = defineLayout(
  'PAGE_DATA',
  [
    { name: 'count', type: 'u32', doc: 'Number of pfn entries (≥ 1).' },
    { name: 'reserved', type: 'u32', reserved: 'PAGE_DATA_RESERVED' },
  ],
  { size: 8, doc: 'u32 count, u32 reserved, u64 pfn[count], then one 4096-byte page per data-bearing entry.' },
);

/** One pfn entry, as the u64 it is on the wire (the codec splits its bit fields). */
export const PAGE_DATA_PFN = defineLayout('PAGE_DATA pfn', [{ name: 'entry', type: 'u64' }], { size: 8 });
