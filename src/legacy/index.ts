/** Legacy (pre-Xen-4.6) images: read, explained and converted to v2 (spec/FORMAT.md, "Legacy streams"). */
export { readLegacy, type LegacyReadOptions } from './legacy-reader.js';
export { convertLegacy, LEGACY_CONVERTER_VERSION, type ConvertLegacyOptions, type ConvertLegacyResult } from './convert-legacy.js';
export { dumpLegacy, describeLegacyItem, legacyItemJson, type LegacyDumpOptions } from './legacy-dump.js';
export { isLegacyImage } from './legacy-probe.js';
export { legacyShape, describeLegacyImage, type LegacyShape, type LegacyContainer, type LegacyGuest, type ToolstackWidth } from './legacy-layout.js';
export type * from './legacy-items.js';
