// Decode and encode single records with the codec: byte-exact both ways.
// Run: npx tsx examples/codec.ts
// (From the package: import { … } from 'xen-migration-stream/codec'.)
import { decodeRecord, encodeRecord, makeRecord, recordToJson } from '../src/codec/index.js';

// CHECKPOINT_STATE(SVM_READY), the example bytes of spec/FORMAT.md §11.
const bytes = Uint8Array.from([0x05, 0, 0, 0, 0x04, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0]);
const { record, length } = decodeRecord('libxl', bytes, 0, { offset: 0 });
console.log(length, JSON.stringify(recordToJson(record)));
console.log(Buffer.from(encodeRecord(record)).equals(Buffer.from(bytes))); // true

// Build one from values: the table gives the type number, the codec the layout and padding.
const tsc = makeRecord('libxc', 'X86_TSC_INFO', { kind: 'tsc-info', mode: 0, khz: 2_000_000, nsec: 0n, incarnation: 0, reserved: 0 });
console.log(Buffer.from(encodeRecord(tsc)).toString('hex'));
