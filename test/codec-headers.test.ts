import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeLibxcDomainHeader,
  decodeLibxcImageHeader,
  decodeLibxlHeader,
  decodeXlHeader,
  encodeDocumentChunks,
  encodeLibxcDomainHeader,
  encodeLibxcImageHeader,
  encodeLibxlHeader,
  encodeXlHeader,
  itemToJson,
  JsonFormError,
  parseStreamDocument,
  StreamFormatError,
  xlConfigText,
} from '../src/codec/index.js';
import { readStreamSync } from '../src/reader/index.js';
import { minimalXl } from './support/build.js';

function expectError(fn: () => unknown, ruleId: string, offset: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(StreamFormatError);
  expect((caught as StreamFormatError).ruleId).toBe(ruleId);
  expect((caught as StreamFormatError).offset).toBe(offset);
}

const mutate = (bytes: Uint8Array, at: number, values: number[]) => {
  const out = bytes.slice();
  out.set(values, at);
  return out;
};

describe('the 247-byte worked example of spec/FORMAT.md §11', () => {
  const file = minimalXl();

  it('is the documented file', () => {
    expect(file.length).toBe(247);
    expect(createHash('sha256').update(file).digest('hex')).toBe('5d5ab05ba33ade4baee3ebe609d3d7f789a3776e5841351d99a2845dbc52be8b');
  });

  it('decodes every header at its documented offset', () => {
    const { header, length } = decodeXlHeader(file);
    expect(length).toBe(0x37);
    expect(header).toMatchObject({ byteOrder: 'little', mandatoryFlags: 3, optionalFlags: 0 });
    expect(xlConfigText(header)).toBe('{}');
    expect(decodeLibxlHeader(file.subarray(0x37))).toEqual({ version: 2, options: 0 });
    expect(decodeLibxcImageHeader(file.subarray(0x4f))).toEqual({ version: 3, options: 0, reserved16: 0, reserved32: 0 });
    expect(decodeLibxcDomainHeader(file.subarray(0x67))).toEqual({ domainType: 2, pageShift: 12, reserved: 0, xenMajor: 4, xenMinor: 19 });
  });

  it('re-encodes each header byte for byte', () => {
    const { header } = decodeXlHeader(file);
    expect(Buffer.compare(encodeXlHeader(header), file.subarray(0, 0x37))).toBe(0);
    expect(Buffer.compare(encodeLibxlHeader(decodeLibxlHeader(file.subarray(0x37))), file.subarray(0x37, 0x47))).toBe(0);
    expect(Buffer.compare(encodeLibxcImageHeader(decodeLibxcImageHeader(file.subarray(0x4f))), file.subarray(0x4f, 0x67))).toBe(0);
    expect(Buffer.compare(encodeLibxcDomainHeader(decodeLibxcDomainHeader(file.subarray(0x67))), file.subarray(0x67, 0x77))).toBe(0);
  });

  it('reads as 11 items with the documented offsets and goes through JSON and back byte-exactly', () => {
    const { items, end } = readStreamSync(file).readAll();
    expect(items.map((i) => i.offset)).toEqual([0x00, 0x37, 0x47, 0x4f, 0x67, 0x77, 0x7f, 0x9f, 0xcf, 0xd7, 0xef]);
    expect(end).toMatchObject({ status: 'complete', streamEnd: 247 });
    const doc = JSON.parse(
      JSON.stringify({ format: 'xen-migration-stream/1', dialect: 'upstream', items: items.map((i) => itemToJson(i as Parameters<typeof itemToJson>[0])) }),
    );
    expect(Buffer.compare(Buffer.concat(encodeDocumentChunks(parseStreamDocument(doc))), file)).toBe(0);
  });
});

describe('xl header', () => {
  const file = minimalXl();
  it('big-endian byte order is decoded and re-encoded', () => {
    const h = { byteOrder: 'big' as const, mandatoryFlags: 3, optionalFlags: 0, config: new Uint8Array([0x7b, 0x7d, 0]), optionalTail: new Uint8Array([9, 9]) };
    const bytes = encodeXlHeader(h);
    expect(Array.from(bytes.subarray(32, 36))).toEqual([1, 2, 3, 4]);
    const back = decodeXlHeader(bytes);
    expect(back.header).toEqual(h);
    expect(back.length).toBe(48 + 4 + 3 + 2);
  });
  it('optional data shorter than config_len field: kept as tail, re-encoded', () => {
    const h = { byteOrder: 'little' as const, mandatoryFlags: 2, optionalFlags: 0, optionalTail: new Uint8Array([1, 2]) };
    const bytes = encodeXlHeader(h);
    expect(decodeXlHeader(bytes).header).toEqual({ ...h, config: undefined });
  });
  it('rejects a bad magic at 0', () => expectError(() => decodeXlHeader(mutate(file, 5, [0x21])), 'XL-MAGIC', 0));
  it('rejects a bad byte order at 32', () => expectError(() => decodeXlHeader(mutate(file, 32, [1, 1, 1, 1])), 'XL-BYTEORDER', 32));
  it('rejects unknown mandatory flags at 36', () => expectError(() => decodeXlHeader(mutate(file, 36, [7])), 'XL-MANDATORY-FLAGS', 36));
  it('rejects a legacy (v1) stream at 36', () => expectError(() => decodeXlHeader(mutate(file, 36, [1])), 'XL-LEGACY-STREAM', 36));
  it('rejects a config_len that does not fit, at 48', () => expectError(() => decodeXlHeader(mutate(file, 48, [9])), 'XL-CONFIG-TRUNCATED', 48));
  it('reports a short header as truncation', () => expectError(() => decodeXlHeader(file.subarray(0, 40), { offset: 0 }), 'STREAM-TRUNCATED', 0));
  it('reports missing optional data as truncation', () => expectError(() => decodeXlHeader(file.subarray(0, 50)), 'STREAM-TRUNCATED', 50));
});

describe('libxl and libxc headers', () => {
  const file = minimalXl();
  const libxl = file.subarray(0x37, 0x47);
  const image = file.subarray(0x4f, 0x67);
  const dom = file.subarray(0x67, 0x77);
  it('libxl: bad ident', () => expectError(() => decodeLibxlHeader(mutate(libxl, 0, [0x6c]), { offset: 0x37 }), 'LIBXL-IDENT', 0x37));
  it('libxl: bad version', () => expectError(() => decodeLibxlHeader(mutate(libxl, 11, [3]), { offset: 0x37 }), 'LIBXL-VERSION', 0x3f));
  it('libxc: bad marker', () => expectError(() => decodeLibxcImageHeader(mutate(image, 7, [0xfe]), { offset: 0x4f }), 'LIBXC-MARKER', 0x4f));
  it('libxc: bad id', () => expectError(() => decodeLibxcImageHeader(mutate(image, 8, [0x59]), { offset: 0x4f }), 'LIBXC-ID', 0x57));
  it('libxc: bad version', () => expectError(() => decodeLibxcImageHeader(mutate(image, 15, [4]), { offset: 0x4f }), 'LIBXC-VERSION', 0x5b));
  it('libxc v2 is accepted', () => expect(decodeLibxcImageHeader(mutate(image, 15, [2])).version).toBe(2));
  it('domain: bad type', () => expectError(() => decodeLibxcDomainHeader(mutate(dom, 0, [3]), { offset: 0x67 }), 'LIBXC-DOMAIN-TYPE', 0x67));
  it('domain: bad page shift', () => expectError(() => decodeLibxcDomainHeader(mutate(dom, 4, [13]), { offset: 0x67 }), 'LIBXC-PAGE-SHIFT', 0x6b));
  it('headers keep non-zero reserved fields for exact re-encoding', () => {
    const odd = mutate(image, 18, [0, 1, 0, 0, 0, 2]);
    const h = decodeLibxcImageHeader(odd);
    expect(h).toMatchObject({ reserved16: 1, reserved32: 2 });
    expect(Buffer.compare(encodeLibxcImageHeader(h), odd)).toBe(0);
  });
});

describe('JSON document validation', () => {
  it('names the JSON path of a bad field', () => {
    const doc = {
      format: 'xen-migration-stream/1',
      dialect: 'upstream',
      items: [
        { kind: 'libxl-header', version: 2, options: 0 },
        {
          kind: 'record',
          layer: 'libxc',
          type: 8,
          name: 'X86_TSC_INFO',
          body: { kind: 'tsc-info', mode: 0, khz: -1, nsec: '0x0', incarnation: 0, reserved: 0 },
        },
      ],
    };
    let err: unknown;
    try {
      parseStreamDocument(doc);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JsonFormError);
    expect((err as JsonFormError).path).toBe('/items/1/body/khz');
  });
  it('rejects an unknown item kind with its path', () => {
    expect(() => parseStreamDocument({ format: 'xen-migration-stream/1', dialect: 'upstream', items: [{ kind: 'nope' }] })).toThrow(/\/items\/0\/kind/);
  });
});
