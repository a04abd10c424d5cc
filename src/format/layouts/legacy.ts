/**
 * The fixed parts of a legacy (pre-Xen-4.6) image (spec/FORMAT.md §14; Xen 4.5's
 * xc_domain_save.c and libxl_dom.c). Everything else in a legacy image is a
 * run of `unsigned long`s as wide as the saving toolstack, read by src/legacy/.
 */
import { defineLayout } from '../layout.js';

/** After chunk id −7: save_tsc_info() writes the fields one by one, in this order (no padding). */
export const LEGACY_TSC_CHUNK = defineLayout(
  'legacy tsc_info chunk',
  [
    { name: 'mode', type: 'u32' },
    { name: 'nsec', type: 'u64', unit: 'ns', show: 'dec' },
    { name: 'khz', type: 'u32', unit: 'kHz' },
    { name: 'incarnation', type: 'u32' },
  ],
  { size: 20 },
);

/** After an HVM param chunk's id: the rest of `struct { int id; uint32_t pad; uint64_t data; }`. */
export const LEGACY_PARAM_CHUNK = defineLayout(
  'legacy HVM param chunk',
  [
    { name: 'pad', type: 'u32', padding: true },
    { name: 'value', type: 'u64' },
  ],
  { size: 12 },
);

/** First in the HVM tail: `uint64_t magic_pfns[3]`. */
export const LEGACY_MAGIC_PFNS = defineLayout(
  'legacy magic pfns',
  [
    { name: 'ioreq', type: 'u64', unit: 'pfn' },
    { name: 'bufioreq', type: 'u64', unit: 'pfn' },
    { name: 'store', type: 'u64', unit: 'pfn' },
  ],
  { size: 24 },
);

/** Each block of the PV extended info: a 4-character id and the size of the data that follows. */
export const LEGACY_EXT_BLOCK = defineLayout(
  'legacy extended-info block header',
  [
    { name: 'id', type: 'bytes', size: 4, json: 'latin1', text: true },
    { name: 'size', type: 'u32' },
  ],
  { size: 8 },
);

/** One entry of libxl's toolstack chunk (version 1): the packed head of `struct libxl__physmap_info`; the name follows. */
export const LEGACY_PHYSMAP_ENTRY = defineLayout(
  'libxl__physmap_info',
  [
    { name: 'phys_offset', type: 'u64' },
    { name: 'start_addr', type: 'u64' },
    { name: 'size', type: 'u64' },
    { name: 'namelen', type: 'u32' },
  ],
  { size: 28 },
);
