/**
 * LiME's range header (`extract --format lime`): each range of physical memory
 * is this header followed by its bytes (LiME's lime_mem_range_header, as
 * Volatility's LiME layer reads it).
 */
import { defineLayout } from '../layout.js';

/** "EMiL" read as a little-endian u32. */
export const LIME_MAGIC = 0x4c694d45;
export const LIME_VERSION = 1;

export const LIME_RANGE_HEADER = defineLayout(
  'lime_mem_range_header',
  [
    { name: 'magic', type: 'u32' },
    { name: 'version', type: 'u32' },
    { name: 's_addr', type: 'u64', doc: 'first physical address of the range' },
    { name: 'e_addr', type: 'u64', doc: 'last physical address of the range (inclusive)' },
    { name: 'reserved', type: 'bytes', size: 8, doc: 'zero as LiME writes it' },
  ],
  { size: 32, doc: 'One LiME range: physical addresses s_addr..e_addr, inclusive.' },
);
