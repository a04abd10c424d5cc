/**
 * The stream headers (spec/FORMAT.md §2–5): xl's save-file header (in the
 * saver's byte order, told by its byteorder field), libxl's stream header and
 * libxc's image header (big-endian), libxc's domain header (little-endian).
 * Magic fields are fields like any other; the codec checks their values.
 */
import { defineLayout } from '../layout.js';
import { DOMAIN_TYPE_NAMES, LIBXC_DOMAIN_HEADER_SIZE, LIBXC_IMAGE_HEADER_SIZE, LIBXL_HEADER_SIZE, XL_HEADER_SIZE } from '../constants.js';

export const XL_HEADER = defineLayout(
  'xl header',
  [
    { name: 'magic', type: 'bytes', size: 32, text: true, doc: '"Xen saved domain, xl format\\n \\0 \\r"' },
    { name: 'byteorder', type: 'u32', show: 'hex', doc: "0x01020304 in the saver's order." },
    { name: 'mandatoryFlags', type: 'u32', bits: { 0: 'JSON', 1: 'STREAMv2' } },
    { name: 'optionalFlags', type: 'u32', show: 'hex' },
    { name: 'optionalDataLength', type: 'u32', unit: 'bytes', doc: 'optional_data_len: the config (u32 length + text) and anything after it.' },
  ],
  { size: XL_HEADER_SIZE, doc: 'xl save-file header (tools/xl/xl_saverestore.c struct save_file_header).' },
);

export const LIBXL_HEADER = defineLayout(
  'libxl header',
  [
    { name: 'ident', type: 'bytes', size: 8, text: true, doc: '"LibxlFmt"' },
    { name: 'version', type: 'u32' },
    {
      name: 'options',
      type: 'u32',
      bits: { 0: 'BIG_ENDIAN', 1: 'LEGACY' },
      reserved: 'LIBXL_OPTIONS_RESERVED',
      reservedBits: 0xfffffffc,
      doc: 'bit 0 big-endian, bit 1 legacy (converted), bits 2–31 reserved.',
    },
  ],
  { size: LIBXL_HEADER_SIZE, endian: 'big', doc: 'libxl stream header (libxl_sr_stream_format.h struct libxl__sr_hdr).' },
);

export const LIBXC_IMAGE_HEADER = defineLayout(
  'libxc image header',
  [
    { name: 'marker', type: 'u64', doc: 'All ones.' },
    { name: 'id', type: 'u32', show: 'hex', doc: '"XENF"' },
    { name: 'version', type: 'u32' },
    { name: 'options', type: 'u16', bits: { 0: 'BIG_ENDIAN' }, reserved: 'LIBXC_OPTIONS_RESERVED', reservedBits: 0xfffe },
    { name: 'reserved16', type: 'u16', reserved: 'LIBXC_HEADER_RESERVED' },
    { name: 'reserved32', type: 'u32', reserved: 'LIBXC_HEADER_RESERVED' },
  ],
  { size: LIBXC_IMAGE_HEADER_SIZE, endian: 'big', doc: 'libxc image header (xg_sr_stream_format.h struct xc_sr_ihdr).' },
);

export const LIBXC_DOMAIN_HEADER = defineLayout(
  'libxc domain header',
  [
    { name: 'domainType', type: 'u32', values: DOMAIN_TYPE_NAMES },
    { name: 'pageShift', type: 'u16' },
    { name: 'reserved', type: 'u16', reserved: 'DOMAIN_RESERVED' },
    { name: 'xenMajor', type: 'u32', doc: '0: the stream was made by the legacy converter.' },
    { name: 'xenMinor', type: 'u32' },
  ],
  { size: LIBXC_DOMAIN_HEADER_SIZE, doc: 'libxc domain header (xg_sr_stream_format.h struct xc_sr_dhdr).' },
);
