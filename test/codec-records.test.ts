import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  assertJson,
  decodeRecord,
  encodeRecord,
  recordFromJson,
  recordToJson,
  RecordJson,
  StreamFormatError,
  forEachPage,
  type StreamRecord,
} from '../src/codec/index.js';
import {
  LIBXC_RFC_RECORD_TYPES,
  LIBXC_UPSTREAM_RECORD_TYPES,
  LIBXL_RECORD_TYPES,
  LIBXL_RFC_RECORD_TYPES,
  type Dialect,
  type Layer,
} from '../src/format/index.js';
import { page } from './support/build.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** Decode one record at `base` (absolute offset), check encode and JSON round trips give the same bytes. */
function roundTrip(layer: Layer, bytes: Uint8Array, dialect: Dialect = 'upstream', base = 0): StreamRecord {
  const { record, length } = decodeRecord(layer, bytes, 0, { offset: base }, dialect);
  expect(length).toBe(bytes.length);
  expect(Buffer.compare(encodeRecord(record, dialect), bytes)).toBe(0);
  const json = JSON.parse(JSON.stringify(recordToJson(record, dialect)));
  assertJson(RecordJson, json);
  expect(Buffer.compare(encodeRecord(recordFromJson(json, dialect), dialect), bytes)).toBe(0);
  return record;
}

function expectError(fn: () => unknown, ruleId: string, offset: number): StreamFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StreamFormatError);
    const err = e as StreamFormatError;
    expect(err.ruleId).toBe(ruleId);
    expect(err.offset).toBe(offset);
    return err;
  }
  throw new Error(`expected ${ruleId}`);
}

const BASE = 1000; // records are decoded as if they sat at this absolute offset

// Byte strings from spec/FORMAT.md (§4.7, §5.5–§5.12, §6.2, §11) and records built from its layouts.
const VALID: Array<{ layer: Layer; name: string; hex: string; dialect?: Dialect }> = [
  { layer: 'libxl', name: 'END', hex: '00000000 00000000' },
  { layer: 'libxl', name: 'LIBXC_CONTEXT', hex: '01000000 00000000' },
  {
    layer: 'libxl',
    name: 'EMULATOR_XENSTORE_DATA',
    hex: '02000000 2d000000 02000000 00000000 706879736d61702f66303030303030302f73746172745f6164647200663030303030303000 000000',
  },
  { layer: 'libxl', name: 'EMULATOR_CONTEXT', hex: '03000000 0c000000 02000000 00000000 5145564d 00000000' },
  { layer: 'libxl', name: 'CHECKPOINT_END', hex: '04000000 00000000' },
  { layer: 'libxl', name: 'CHECKPOINT_STATE', hex: '05000000 04000000 02000000 00000000' },
  { layer: 'libxl', name: 'POSTCOPY_TRANSITION_END', hex: '06000000 00000000', dialect: 'postcopy-rfc' },
  { layer: 'libxc', name: 'END', hex: '00000000 00000000' },
  { layer: 'libxc', name: 'X86_PV_INFO', hex: '02000000 08000000 0804000000000000' },
  { layer: 'libxc', name: 'X86_PV_P2M_FRAMES', hex: '03000000 10000000 00000000 ff010000 0010000000000000' },
  { layer: 'libxc', name: 'X86_PV_VCPU_BASIC', hex: '04000000 10000000 00000000 00000000 0102030405060708' },
  { layer: 'libxc', name: 'X86_PV_VCPU_EXTENDED', hex: '05000000 0c000000 01000000 00000000 aabbccdd 00000000' },
  { layer: 'libxc', name: 'X86_PV_VCPU_XSAVE', hex: `06000000 18000000 00000000 00000000${'11'.repeat(16)}` },
  { layer: 'libxc', name: 'SHARED_INFO', hex: `07000000 00100000${'5a'.repeat(4096)}` },
  { layer: 'libxc', name: 'X86_TSC_INFO', hex: '08000000 18000000 00000000 80841e00 0000000000000000 00000000 00000000' },
  { layer: 'libxc', name: 'HVM_CONTEXT', hex: '09000000 28000000 0100000018000000861238540100000000000000000000000000000080841e000000000000000000' },
  { layer: 'libxc', name: 'HVM_PARAMS', hex: '0a000000 28000000 02000000 00000000 0100000000000000 fcef0f0000000000 1100000000000000 ffef0f0000000000' },
  { layer: 'libxc', name: 'TOOLSTACK', hex: '0b000000 03000000 616263 0000000000' },
  { layer: 'libxc', name: 'X86_PV_VCPU_MSRS', hex: '0c000000 18000000 00000000 00000000 8000000000000000 0100000000000000' },
  { layer: 'libxc', name: 'VERIFY', hex: '0d000000 00000000' },
  { layer: 'libxc', name: 'CHECKPOINT', hex: '0e000000 00000000' },
  { layer: 'libxc', name: 'CHECKPOINT_DIRTY_PFN_LIST', hex: '0f000000 10000000 1000000000000000 1100000000000000' },
  { layer: 'libxc', name: 'STATIC_DATA_END', hex: '10000000 00000000' },
  { layer: 'libxc', name: 'X86_CPUID_POLICY', hex: '11000000 18000000 00000000 ffffffff 0d000000 756e6547 6c65746e 49656e69' },
  { layer: 'libxc', name: 'X86_MSR_POLICY', hex: '12000000 10000000 ce000000 00000000 0000000000000080' },
  { layer: 'libxc', name: 'POSTCOPY_BEGIN', hex: '10000000 00000000', dialect: 'postcopy-rfc' },
  { layer: 'libxc', name: 'POSTCOPY_PFNS_BEGIN', hex: '11000000 00000000', dialect: 'postcopy-rfc' },
  { layer: 'libxc', name: 'POSTCOPY_PFNS', hex: '12000000 10000000 01000000 00000000 3412000000000000', dialect: 'postcopy-rfc' },
  { layer: 'libxc', name: 'POSTCOPY_TRANSITION', hex: '13000000 00000000', dialect: 'postcopy-rfc' },
  { layer: 'libxc', name: 'POSTCOPY_PAGE_DATA', hex: `14000000 10100000 01000000 00000000 3412000000000000${'00'.repeat(4096)}`, dialect: 'postcopy-rfc' },
  { layer: 'libxc', name: 'POSTCOPY_FAULT', hex: '15000000 18000000 02000000 00000000 3412000000000000 3512000000000000', dialect: 'postcopy-rfc' },
  { layer: 'libxc', name: 'POSTCOPY_COMPLETE', hex: '16000000 00000000', dialect: 'postcopy-rfc' },
];

// The PAGE_DATA example of §5.5: pfn 0x100 NOTAB, 0x101 XTAB, 0x102 L1TAB|PINNED, then two pages.
const PAGE_DATA_EXAMPLE = (() => {
  const head = hex('01000000 20200000 03000000 00000000 0001000000000000 01010000000000f0 0201000000000090');
  const out = new Uint8Array(head.length + 8192);
  out.set(head);
  out.set(page(0x100), head.length);
  out.set(page(0x102), head.length + 4096);
  return out;
})();

describe('every record type decodes from spec/FORMAT.md bytes and re-encodes byte-exactly (binary and JSON)', () => {
  for (const v of VALID) {
    it(`${v.layer} ${v.name}${v.dialect ? ` (${v.dialect})` : ''}`, () => {
      const rec = roundTrip(v.layer, hex(v.hex), v.dialect, BASE);
      expect(rec.name).toBe(v.name);
    });
  }

  it('libxc PAGE_DATA (§5.5 example): pfns, types, pages as views', () => {
    const rec = roundTrip('libxc', PAGE_DATA_EXAMPLE);
    if (rec.body.kind !== 'page-data') throw new Error('kind');
    expect(rec.body.pfns).toEqual([0x100, 0x101, 0x102]);
    expect(rec.body.types).toEqual([0x0, 0xf, 0x9]);
    const seen: Array<[number, number, boolean]> = [];
    forEachPage(rec.body, (pfn, type, pg) => {
      seen.push([pfn, type, pg !== undefined]);
      if (pg) expect(Buffer.compare(pg, page(pfn))).toBe(0);
    });
    expect(seen).toEqual([
      [0x100, 0, true],
      [0x101, 0xf, false],
      [0x102, 9, true],
    ]);
  });

  it('covers every type in the tables', () => {
    const named = new Set([...VALID.map((v) => `${v.layer}:${v.name}`), 'libxc:PAGE_DATA']);
    for (const t of [...LIBXL_RECORD_TYPES, ...LIBXL_RFC_RECORD_TYPES, ...LIBXC_UPSTREAM_RECORD_TYPES, ...LIBXC_RFC_RECORD_TYPES]) {
      expect(named.has(`${t.layer}:${t.name}`), `${t.layer}:${t.name}`).toBe(true);
    }
  });

  it('keeps unknown records (optional and mandatory) opaque for re-encoding, and non-zero padding', () => {
    const unknown = roundTrip('libxc', hex('34120080 05000000 0102030405 000000'));
    expect(unknown.name).toBe('OPTIONAL_0x80001234');
    expect(unknown.body.kind).toBe('opaque');
    const padded = roundTrip('libxl', hex('03000000 0c000000 02000000 00000000 5145564d 00000007'));
    expect(padded.padding).toBeDefined();
    const nonZeroReserved = roundTrip('libxc', hex('08000000 18000000 00000000 80841e00 0000000000000000 00000000 01000000'));
    expect(nonZeroReserved.body).toMatchObject({ kind: 'tsc-info', reserved: 1 });
  });

  it('PAGE_DATA with reserved pfn bits 52–59 survives a round trip', () => {
    const rec = roundTrip('libxc', hex('01000000 10000000 01000000 00000000 00010000 000030f0'));
    expect(rec.body).toMatchObject({ kind: 'page-data', pfnReservedBits: [3], types: [0xf], pfns: [0x100] });
  });
});

describe('malformed bodies give a typed error at the offending bytes', () => {
  // [layer, record hex, rule id, offset of the offending bytes relative to the record start]
  const BAD: Array<[Layer, string, string, number, Dialect?]> = [
    ['libxc', '01000000 04000000 01000000 00000000', 'LIBXC-PAGE-DATA-SHORT', 8],
    ['libxc', '01000000 08000000 00000000 00000000', 'LIBXC-PAGE-DATA-COUNT-ZERO', 8],
    ['libxc', '01000000 10000000 02000000 00000000 0001000000000000', 'LIBXC-PAGE-DATA-PFN-ARRAY', 8],
    ['libxc', '01000000 10000000 01000000 00000000 0001000000000050', 'LIBXC-PAGE-DATA-TYPE', 16],
    ['libxc', '01000000 10000000 01000000 00000000 0001000000000000', 'LIBXC-PAGE-DATA-LENGTH', 8],
    ['libxc', '02000000 04000000 08040000 00000000', 'LIBXC-PV-INFO-LENGTH', 8],
    ['libxc', '03000000 04000000 00000000 00000000', 'LIBXC-P2M-FRAMES-SHORT', 8],
    ['libxc', '03000000 08000000 05000000 01000000', 'LIBXC-P2M-FRAMES-RANGE', 8],
    ['libxc', '04000000 04000000 00000000 00000000', 'LIBXC-VCPU-SHORT', 8],
    ['libxc', '07000000 08000000 0000000000000000', 'LIBXC-SHARED-INFO-LENGTH', 8],
    ['libxc', '08000000 10000000 00000000000000000000000000000000', 'LIBXC-TSC-INFO-LENGTH', 8],
    ['libxc', '09000000 00000000', 'LIBXC-HVM-CONTEXT-EMPTY', 8],
    ['libxc', '0a000000 04000000 01000000 00000000', 'LIBXC-HVM-PARAMS-SHORT', 8],
    ['libxc', '0a000000 08000000 01000000 00000000', 'LIBXC-HVM-PARAMS-LENGTH', 8],
    ['libxc', '0f000000 04000000 01000000 00000000', 'LIBXC-DIRTY-PFN-LIST-LENGTH', 8],
    ['libxc', '11000000 10000000 00000000000000000000000000000000', 'LIBXC-CPUID-POLICY-LENGTH', 8],
    ['libxc', '12000000 08000000 0000000000000000', 'LIBXC-MSR-POLICY-LENGTH', 8],
    ['libxl', '02000000 04000000 02000000 00000000', 'LIBXL-EMULATOR-SHORT', 8],
    ['libxl', '03000000 04000000 02000000 00000000', 'LIBXL-EMULATOR-SHORT', 8],
    ['libxl', '02000000 0b000000 02000000 00000000 6b6579 0000000000', 'LIBXL-XENSTORE-KEY-NUL', 16],
    ['libxl', '02000000 0a000000 02000000 00000000 0076 000000000000', 'LIBXL-XENSTORE-KEY-EMPTY', 16],
    ['libxl', '02000000 0e000000 02000000 00000000 2f6b0076616c00 0000', 'LIBXL-XENSTORE-KEY-ABSOLUTE', 16],
    ['libxl', '02000000 0d000000 02000000 00000000 6b6579 00 7661 000000', 'LIBXL-XENSTORE-VALUE-NUL', 20],
    ['libxl', '05000000 02000000 0000 000000000000', 'LIBXL-CHECKPOINT-STATE-LENGTH', 8],
    ['libxc', '12000000 18000000 01000000 00000000 3412000000000000 0000000000000000', 'RFC-POSTCOPY-PFNS-LENGTH', 8, 'postcopy-rfc'],
  ];
  for (const [layer, h, rule, rel, dialect] of BAD) {
    it(`${rule} (${h.slice(0, 8)})`, () => {
      expectError(() => decodeRecord(layer, hex(h), 0, { offset: BASE }, dialect), rule, BASE + rel);
    });
  }

  it('a record running past the end of the bytes is a truncation, not a RangeError', () => {
    expectError(() => decodeRecord('libxc', hex('01000000 20200000 03000000'), 0, { offset: BASE }), 'STREAM-TRUNCATED', BASE + 12);
  });

  it('random bytes never throw anything but StreamFormatError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Layer>('libxl', 'libxc'),
        fc.integer({ min: 0, max: 0x16 }),
        fc.uint8Array({ maxLength: 96 }),
        fc.constantFrom<Dialect>('upstream', 'postcopy-rfc'),
        (layer, type, body, dialect) => {
          const bytes = new Uint8Array(8 + body.length + ((8 - (body.length % 8)) % 8));
          new DataView(bytes.buffer).setUint32(0, type, true);
          new DataView(bytes.buffer).setUint32(4, body.length, true);
          bytes.set(body, 8);
          try {
            const { record } = decodeRecord(layer, bytes, 0, { offset: 0 }, dialect);
            expect(Buffer.compare(encodeRecord(record, dialect), bytes)).toBe(0);
          } catch (e) {
            if (!(e instanceof StreamFormatError)) throw e;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('zero-copy', () => {
  it('a decoded PAGE_DATA page is a view sharing the input ArrayBuffer, even at an unaligned offset', () => {
    const backing = new Uint8Array(PAGE_DATA_EXAMPLE.length + 3);
    backing.set(PAGE_DATA_EXAMPLE, 3); // byteOffset 3: not 8-aligned
    const input = backing.subarray(3);
    const { record } = decodeRecord('libxc', input, 0, { offset: 0 });
    if (record.body.kind !== 'page-data') throw new Error('kind');
    expect(record.body.pageData.buffer).toBe(backing.buffer);
    expect(record.body.pageData.byteOffset).toBe(3 + 8 + 8 + 24);
    backing[3 + 8 + 8 + 24] ^= 0xff; // a write through the input shows through the view
    expect(record.body.pageData[0]).toBe(backing[3 + 8 + 8 + 24]);
  });

  it('encodeRecordChunks hands page data to the sink as the same view', async () => {
    const { encodeRecordChunks } = await import('../src/codec/index.js');
    const { record } = decodeRecord('libxc', PAGE_DATA_EXAMPLE, 0, { offset: 0 });
    if (record.body.kind !== 'page-data') throw new Error('kind');
    const chunks = encodeRecordChunks(record);
    expect(chunks).toContain(record.body.pageData);
  });
});
