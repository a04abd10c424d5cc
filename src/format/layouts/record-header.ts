/** The record header every record of both layers starts with (spec/FORMAT.md §3; xg_sr_stream_format.h struct xc_sr_rhdr). */
import { RECORD_HEADER_SIZE } from '../constants.js';
import { defineLayout } from '../layout.js';

export const RECORD_HEADER = defineLayout(
  'record header',
  [
    { name: 'type', type: 'u32', show: 'hex', doc: 'Record type (rhdr.type); bit 31 marks an optional record.' },
    { name: 'bodyLength', type: 'u32', unit: 'bytes', doc: 'Body length without padding (rhdr.length).' },
  ],
  { size: RECORD_HEADER_SIZE, doc: 'u32 type, u32 length; the body follows, zero-padded to a multiple of 8.' },
);
