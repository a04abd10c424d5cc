/** libxl record heads: the emulator sub-header and CHECKPOINT_STATE (spec/FORMAT.md §4.4–4.6; libxl_sr_stream_format.h). */
import { CHECKPOINT_CONTROL_IDS, EMULATOR_IDS } from '../constants.js';
import { defineLayout } from '../layout.js';

/** EMULATOR_XENSTORE_DATA / EMULATOR_CONTEXT start with this; the data follows. */
export const EMULATOR_HEADER = defineLayout(
  'emulator sub-header',
  [
    { name: 'emulatorId', type: 'u32', values: EMULATOR_IDS, doc: 'id: 0 unknown, 1 QEMU traditional, 2 QEMU upstream.' },
    { name: 'index', type: 'u32', doc: 'Which emulator of that kind.' },
  ],
  { size: 8, doc: 'libxl__sr_emulator_hdr' },
);

export const CHECKPOINT_STATE = defineLayout(
  'CHECKPOINT_STATE',
  [{ name: 'controlId', type: 'u32', values: CHECKPOINT_CONTROL_IDS, doc: 'COLO control id; the forward stream carries only 0 (CHECKPOINT_NEW).' }],
  { size: 4, doc: 'libxl_sr_checkpoint_state' },
);
