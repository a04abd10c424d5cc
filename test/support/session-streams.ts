/**
 * Byte streams for the session tests, built from spec/FORMAT.md: the 247-byte
 * worked example (§11) and hand-assembled Remus and RFC-postcopy streams.
 */
import { minimalXl } from './build.js';
/** The 247-byte worked example of spec/FORMAT.md §11 (one copy of its bytes: test/support/build.ts). */
export const exampleXlSave = minimalXl;

/** Offset where the libxl stream starts inside the example (after the 55-byte xl header). */
export const EXAMPLE_LIBXL_OFFSET = 0x37;

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

function record(type: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const padded = (body.length + 7) & ~7;
  const out = Buffer.alloc(8 + padded);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(body.length, 4);
  out.set(body, 8);
  return out;
}

const XL_HEADER = hex('58656e20736176656420646f6d61696e2c20786c20666f726d61740a2000200d 04030201 03000000 00000000 07000000 03000000 7b7d00');
const LIBXL_HEADER = hex('4c6962786c466d74 00000002 00000000');
const LIBXC_IMAGE_HEADER = (version: number): Buffer => Buffer.concat([hex('ffffffffffffffff 58454e46'), Buffer.from([0, 0, 0, version]), Buffer.alloc(8)]);
const LIBXC_DOMAIN_HEADER = hex('02000000 0c000000 04000000 13000000');

const TSC_INFO = (): Buffer => {
  const body = Buffer.alloc(24);
  body.writeUInt32LE(2_000_000, 4);
  return record(0x08, body);
};
const HVM_CONTEXT = (): Buffer => record(0x09, hex('01000000 18000000 86123854 01000000 00000000 00000000 00000000 80841e00 00000000 00000000'));
const EMULATOR_CONTEXT = (): Buffer => record(0x03, hex('02000000 00000000 5145564d'));

/** One zero page of PAGE_DATA for `pfn` (count 1, type NOTAB). */
function pageData(pfn: number, type = 0x01): Buffer {
  const body = Buffer.alloc(16 + 4096);
  body.writeUInt32LE(1, 0);
  body.writeBigUInt64LE(BigInt(pfn), 8);
  body.fill(pfn & 0xff, 16);
  return record(type, body);
}

/**
 * A Remus stream (spec/FORMAT.md §9.2): headers, STATIC_DATA_END, then
 * `checkpoints` × {PAGE_DATA, TSC, HVM_CONTEXT, libxc CHECKPOINT, libxl
 * EMULATOR_CONTEXT, CHECKPOINT_END [, CHECKPOINT_STATE(NEW) for COLO]};
 * never an END. Returns the bytes and the
 * offset right after each complete checkpoint.
 */
export function remusStream(checkpoints = 2, colo = false): { bytes: Uint8Array; checkpointEnds: number[] } {
  const parts: Buffer[] = [XL_HEADER, LIBXL_HEADER, record(0x01), LIBXC_IMAGE_HEADER(3), LIBXC_DOMAIN_HEADER, record(0x10)];
  const ends: number[] = [];
  let length = parts.reduce((sum, part) => sum + part.length, 0);
  for (let n = 0; n < checkpoints; n += 1) {
    const checkpoint = [pageData(n + 1), TSC_INFO(), HVM_CONTEXT(), record(0x0e), EMULATOR_CONTEXT(), record(0x04)];
    // COLO: libxl CHECKPOINT_STATE(control_id 0 = NEW) after every CHECKPOINT_END (spec/FORMAT.md §9.2).
    if (colo) checkpoint.push(record(0x05, new Uint8Array(4)));
    parts.push(...checkpoint);
    length += checkpoint.reduce((sum, part) => sum + part.length, 0);
    ends.push(length);
  }
  return { bytes: new Uint8Array(Buffer.concat(parts)), checkpointEnds: ends };
}

/**
 * An RFC postcopy stream (spec/FORMAT.md §6.4): libxc v2 image, PAGE_DATA,
 * POSTCOPY_BEGIN, TSC, HVM_CONTEXT, POSTCOPY_PFNS_BEGIN, POSTCOPY_PFNS,
 * POSTCOPY_TRANSITION, ⟨libxl EMULATOR_CONTEXT, POSTCOPY_TRANSITION_END⟩,
 * POSTCOPY_PAGE_DATA, libxc END, libxl END.
 */
export function postcopyStream(): Uint8Array {
  const pfns = Buffer.alloc(16);
  pfns.writeUInt32LE(1, 0);
  pfns.writeBigUInt64LE(0x2n, 8);
  return new Uint8Array(
    Buffer.concat([
      XL_HEADER,
      LIBXL_HEADER,
      record(0x01),
      LIBXC_IMAGE_HEADER(2),
      LIBXC_DOMAIN_HEADER,
      pageData(1),
      record(0x10),
      TSC_INFO(),
      HVM_CONTEXT(),
      record(0x11),
      record(0x12, pfns),
      record(0x13),
      EMULATOR_CONTEXT(),
      record(0x06),
      pageData(2, 0x14),
      record(0x00),
      record(0x00),
    ]),
  );
}
