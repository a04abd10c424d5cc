/**
 * A XenServer / XCP-ng suspend image section header (spec/FORMAT.md §15.3;
 * xenopsd lib/suspend_image.ml read_header / write_header): two little-endian
 * u64, the section type and its body's length (0 for the embedded streams).
 */
import { defineLayout } from '../layout.js';

export const XENSERVER_SECTION_TYPES: Readonly<Record<number, string>> = Object.fromEntries([
  [0x000f, 'Xenops'],
  [0x00f0, 'Libxc'],
  [0x00f1, 'Libxl'],
  [0x00f2, 'Libxc_legacy'],
  [0x0f00, 'Qemu_trad'],
  [0x0f01, 'Qemu_xen'],
  [0x0f10, 'Demu'],
  [0x0f11, 'Varstored'],
  [0xffff, 'End_of_image'],
]);

export const XENSERVER_SECTION_HEADER = defineLayout(
  'suspend image header',
  [
    { name: 'type', type: 'u64', values: XENSERVER_SECTION_TYPES },
    { name: 'length', type: 'u64', unit: 'bytes', show: 'dec' },
  ],
  { size: 16, doc: 'Each section of a suspend image starts with one.' },
);
