import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Value } from '@sinclair/typebox/value';
import { defineLayout, type LayoutValue } from '../src/format/layout.js';
import { clearReserved, layoutCodec, layoutZero, walkLayout } from '../src/codec/layout-codec.js';
import { LIBXC_IMAGE_HEADER, XL_HEADER } from '../src/format/layouts/stream-headers.js';
import { layoutSchema } from '../src/codec/layout-schema.js';
import { layoutSummary, layoutText } from '../src/inspect/layout-text.js';
import { X86_TSC_INFO } from '../src/format/layouts/x86-tsc-info.js';

const SEGMENT = defineLayout('segment', [
  { name: 'sel', type: 'u16', show: 'hex' },
  { name: 'pad', type: 'u16', padding: true },
  { name: 'limit', type: 'u32' },
]);

const SAMPLE = defineLayout(
  'sample',
  [
    { name: 'magic', type: 'u32', show: 'hex' },
    { name: 'mode', type: 'u8', values: { 0: 'off', 1: 'on' } },
    { name: 'flags', type: 'u8', bits: { 0: 'A', 3: 'D' } },
    { name: 'delta', type: 'i16' },
    { name: 'rsvd', type: 'u32', reserved: 'TSC_INFO_RESERVED' },
    { name: 'big', type: 'u64' },
    { name: 'signed', type: 'i64' },
    { name: 'vendor', type: 'bytes', size: 12, text: true, json: 'latin1' },
    { name: 'regs', type: 'u32', count: 3 },
    { name: 'segs', type: SEGMENT, count: 2 },
    { name: 'inner', type: SEGMENT },
  ],
  { size: 4 + 1 + 1 + 2 + 4 + 8 + 8 + 12 + 12 + 16 + 8 },
);

const codec = layoutCodec(SAMPLE);

describe('layout table engine', () => {
  it('places fields and refuses a table that does not add up to its C size', () => {
    expect(SAMPLE.fields.find((f) => f.name === 'big')?.offset).toBe(12);
    expect(SAMPLE.fields.find((f) => f.name === 'segs')?.size).toBe(16);
    expect(() => defineLayout('bad', [{ name: 'a', type: 'u32' }], { size: 8 })).toThrow(/add up to 4 bytes, expected 8/);
    expect(() =>
      defineLayout('dup', [
        { name: 'a', type: 'u8' },
        { name: 'a', type: 'u8' },
      ]),
    ).toThrow(/twice/);
  });

  it('decodes every field type little-endian, bytes as views of the input', () => {
    const bytes = new Uint8Array(SAMPLE.size + 3);
    const dv = new DataView(bytes.buffer);
    const o = 3;
    dv.setUint32(o, 0xfeedf00d, true);
    bytes[o + 4] = 1;
    bytes[o + 5] = 0b1001;
    dv.setInt16(o + 6, -2, true);
    dv.setBigUint64(o + 12, 0xffff_ffff_ffff_fffen, true);
    dv.setBigInt64(o + 20, -5n, true);
    bytes.set(new TextEncoder().encode('GenuineIntel'), o + 28);
    dv.setUint32(o + 44, 7, true);
    dv.setUint16(o + 52, 0x10, true);
    const v = codec.decode(bytes, o);
    expect(v.magic).toBe(0xfeedf00d);
    expect(v.mode).toBe(1);
    expect(v.delta).toBe(-2);
    expect(v.big).toBe(0xffff_ffff_ffff_fffen);
    expect(v.signed).toBe(-5n);
    expect(v.regs).toEqual([0, 7, 0]);
    expect(v.segs[0].sel).toBe(0x10);
    expect(v.vendor.buffer).toBe(bytes.buffer);
    expect(() => codec.decode(bytes, 4)).toThrow(RangeError);
  });

  it('round-trips any bytes, through the value and through JSON that its schema accepts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: SAMPLE.size, maxLength: SAMPLE.size }), (bytes) => {
        const v = codec.decode(bytes);
        expect(codec.encode(v)).toEqual(bytes);
        const json = JSON.parse(JSON.stringify(codec.toJson(v)));
        expect(Value.Check(layoutSchema(SAMPLE), json)).toBe(true);
        expect(codec.encode(codec.fromJson(json))).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('an edited field changes exactly its own bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: SAMPLE.size, maxLength: SAMPLE.size }), fc.integer({ min: 0, max: 0xffffffff }), (bytes, n) => {
        const v = codec.decode(bytes);
        const edited = { ...v, regs: [v.regs[0], n, v.regs[2]] } as LayoutValue<typeof SAMPLE>;
        const out = codec.encode(edited);
        const at = SAMPLE.fields.find((f) => f.name === 'regs')?.offset ?? -1;
        for (let i = 0; i < bytes.length; i++) if (i < at + 4 || i >= at + 8) expect(out[i]).toBe(bytes[i]);
        expect(codec.decode(out).regs[1]).toBe(n);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses values the layout cannot hold, naming the field', () => {
    const v = codec.decode(new Uint8Array(SAMPLE.size));
    expect(() => codec.encode({ ...v, mode: 256 })).toThrow(/mode: 256 is not an integer in 0\.\.255/);
    expect(() => codec.encode({ ...v, regs: [1, 2] })).toThrow(/regs: expected an array of 3/);
    expect(() => codec.encode({ ...v, big: 2n ** 64n })).toThrow(/big/);
    expect(() => codec.encode({ ...v, vendor: new Uint8Array(3) })).toThrow(/vendor: expected 12 bytes/);
  });

  it('reports non-zero reserved fields with their rule and offset', () => {
    const bytes = new Uint8Array(SAMPLE.size);
    expect(codec.reservedViolations(codec.decode(bytes))).toEqual([]);
    bytes[9] = 1;
    expect(codec.reservedViolations(codec.decode(bytes))).toEqual([{ rule: 'TSC_INFO_RESERVED', path: 'rsvd', offset: 8, value: 0x100 }]);
  });

  it('walks nested structs and arrays of structs with their offsets', () => {
    const seen: string[] = [];
    walkLayout(SAMPLE, codec.decode(new Uint8Array(SAMPLE.size)), ({ path, offset }) => {
      seen.push(`${path}@${offset}`);
      return undefined;
    });
    expect(seen).toContain('segs[1].limit@64');
    expect(seen).toContain('inner.sel@68');
  });

  it('renders names, enums, flags, units and text, hiding padding and zero reserved fields', () => {
    const bytes = new Uint8Array(SAMPLE.size);
    bytes[4] = 1;
    bytes[5] = 0b1001;
    bytes.set(new TextEncoder().encode('AuthenticAMD'), 28);
    const lines = layoutText(SAMPLE, codec.decode(bytes));
    expect(lines.join('\n')).toMatch(/mode +1 \(on\)/);
    expect(lines.join('\n')).toMatch(/flags +0x9 \[A D\]/);
    expect(lines.join('\n')).toMatch(/vendor +"AuthenticAMD"/);
    expect(lines.join('\n')).not.toMatch(/rsvd|pad/);
    expect(lines).toContain('segs:');
    expect(lines).toContain('  [1]:');
  });

  it('compactArrays: one line per array element, identical runs collapsed; hideZero hides zero elements and arrays', () => {
    const TABLE = defineLayout('table', [
      { name: 'rows', type: SEGMENT, count: 6 },
      { name: 'zeros', type: 'u32', count: 4 },
    ]);
    const v = layoutCodec(TABLE).decode(new Uint8Array(TABLE.size));
    v.rows[1] = { sel: 0x10, pad: 0, limit: 5 };
    v.rows[2] = { sel: 0x10, pad: 0, limit: 5 };
    v.rows[3] = { sel: 0x10, pad: 0, limit: 5 };
    v.rows[5] = { sel: 0x20, pad: 0, limit: 0 };
    const lines = layoutText(TABLE, v, { compactArrays: true, hideZero: true }).map((l) => l.replace(/\s+/g, ' ').trimEnd());
    expect(lines).toEqual(['rows:', ' [1] sel 0x10, limit 5', ' [2–3] same as [1]', ' [5] sel 0x20']);
    expect(layoutText(TABLE, v, { compactArrays: true }).join('\n')).toMatch(/\[0\] +sel 0x0, limit 0/);
  });

  it('X86_TSC_INFO is one table: 24 bytes, its reserved field tied to its rule', () => {
    expect(X86_TSC_INFO.size).toBe(24);
    expect(X86_TSC_INFO.fields.map((f) => f.name)).toEqual(['mode', 'khz', 'nsec', 'incarnation', 'reserved']);
    expect(X86_TSC_INFO.fields[4]).toMatchObject({ offset: 20, reserved: 'TSC_INFO_RESERVED' });
  });

  it('big-endian layouts, and a layout read in the other byte order when asked (the xl header)', () => {
    const image = layoutCodec(LIBXC_IMAGE_HEADER);
    const bytes = image.encode({ marker: 2n ** 64n - 1n, id: 0x58454e46, version: 3, options: 0, reserved16: 0, reserved32: 0 });
    expect(Buffer.from(bytes.subarray(8, 16)).toString('hex')).toBe('58454e4600000003');
    expect(image.decode(bytes).version).toBe(3);
    const xlBig = layoutCodec(XL_HEADER, 'big').encode({ ...layoutZero(XL_HEADER), byteorder: 0x01020304 });
    expect(Buffer.from(xlBig.subarray(32, 36)).toString('hex')).toBe('01020304');
    expect(layoutCodec(XL_HEADER).decode(xlBig).byteorder).toBe(0x04030201);
  });

  it('reservedBits: only those bits of a field must be zero', () => {
    const image = layoutCodec(LIBXC_IMAGE_HEADER);
    const v = { ...layoutZero(LIBXC_IMAGE_HEADER), options: 1 };
    expect(image.reservedViolations(v)).toEqual([]);
    expect(image.reservedViolations({ ...v, options: 3 }).map((x) => [x.rule, x.offset])).toEqual([['LIBXC_OPTIONS_RESERVED', 16]]);
  });

  it('a zero value to lay fields over, reserved fields cleared for re-writing, a one-line summary', () => {
    expect(layoutZero(X86_TSC_INFO)).toEqual({ mode: 0, khz: 0, nsec: 0n, incarnation: 0, reserved: 0 });
    const v = { mode: 1, khz: 2_400_000, nsec: 5n, incarnation: 3, reserved: 9 };
    expect(clearReserved(X86_TSC_INFO, v)).toEqual({ ...v, reserved: 0 });
    expect(layoutSummary(X86_TSC_INFO, v)).toBe('mode 1 (always emulate), khz 2400000 kHz, nsec 5 ns, incarnation 3, reserved 9');
    expect(layoutSummary(X86_TSC_INFO, { ...v, reserved: 0 })).toBe('mode 1 (always emulate), khz 2400000 kHz, nsec 5 ns, incarnation 3');
  });
});
