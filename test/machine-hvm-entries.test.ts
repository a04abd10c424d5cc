/**
 * HVM save entries and PV vCPU records decoded with their tables: the real Xen 4.17 HVM save, hand-made
 * edge cases (compat CPU, XSAVE present, CPU_MSR with names, unknown typecode, 32-bit PV, short entries),
 * the JSON form (decoded fields next to the raw bytes) and the edit property: decode → edit one field →
 * encode → decode gives the edited value and nothing else changed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readStreamSync, type RecordItem } from '../src/reader/index.js';
import type { OpaqueBody } from '../src/codec/bodies/simple.js';
import { encodeRecord, makeRecord, recordFromJson, recordToJson, type StreamRecord } from '../src/codec/records.js';
import { walkLayout } from '../src/codec/layout-codec.js';
import { isScalarField, SCALAR_SIZES, type ScalarType } from '../src/format/layout.js';
import { decodeHvmEntries } from '../src/codec/machine/hvm-entries.js';
import { recordParts } from '../src/codec/machine/parts.js';
import type { HvmEntryJsonForm } from '../src/codec/machine/machine-json.js';
import { hvmContextProblems } from '../src/codec/bodies/hvm-context-framing.js';
import { hvmBlob } from './support/build.js';
import { dataView } from '../src/codec/bytes.js';

function filled(size: number, f: (dv: DataView) => void): Uint8Array {
  const b = new Uint8Array(size);
  f(new DataView(b.buffer));
  return b;
}

const hvmRecord = (data: Uint8Array): StreamRecord => makeRecord('libxc', 'HVM_CONTEXT', { kind: 'opaque', data });
const viaJson = (r: StreamRecord) => recordFromJson(JSON.parse(JSON.stringify(recordToJson(r))));

describe('HVM save entries of the real Xen 4.17 HVM save', () => {
  const bytes = gunzipSync(readFileSync(join(import.meta.dirname, '../fixtures/xen-4.17/hvm128-save.bin.gz')));
  const rec = [...readStreamSync(bytes)].find((i): i is RecordItem => i.kind === 'record' && i.record.name === 'HVM_CONTEXT')?.record;

  it('every entry but END decodes with its table, with device state a PC has', () => {
    if (!rec) throw new Error('no HVM_CONTEXT');
    const { entries, truncatedAt } = decodeHvmEntries((rec.body as OpaqueBody).data);
    expect(truncatedAt).toBeUndefined();
    expect(entries.filter((e) => !e.decoded).map((e) => e.name)).toEqual(['END']);
    const value = (name: string, instance = 0) => entries.find((e) => e.name === name && e.instance === instance)?.decoded?.value as Record<string, unknown>;
    expect(value('HEADER').magic).toBe(0x54381286);
    expect((value('PIC', 0).mode as number) & 0x40).toBe(0x40); // is_master
    expect((value('PIC', 1).mode as number) & 0x40).toBe(0);
    expect(value('IOAPIC').base_address).toBe(0xfec00000n);
    expect((value('IOAPIC').redirtbl as unknown[]).length).toBe(48);
    expect((value('LAPIC').apic_base_msr as bigint) & 0xfffff000n).toBe(0xfee00000n);
    expect((value('LAPIC_REGS').version as number) & 0xff).toBe(0x14); // Xen's vlapic: version 0x14
    expect((value('PIT').channels as unknown[]).length).toBe(3);
    expect(value('HPET').capability as bigint).not.toBe(0n);
    expect((value('MTRR').msr_mtrr_cap as bigint) & 0xffn).toBe(8n);
  });

  it('its JSON form round-trips byte for byte, and its parts are keyed by entry name and instance', () => {
    if (!rec) throw new Error('no HVM_CONTEXT');
    expect(Buffer.from(encodeRecord(viaJson(rec))).equals(Buffer.from(encodeRecord(rec)))).toBe(true);
    const keys = recordParts(rec).map((p) => p.key);
    expect(keys).toContain('HVM_CONTEXT CPU[0]');
    expect(keys).toContain('HVM_CONTEXT PIC[1]');
    expect(keys).not.toContain('HVM_CONTEXT END[0]');
  });
});

describe('hand-made HVM entries', () => {
  const xsave = filled(832, (dv) => {
    dv.setBigUint64(8, 7n, true); // xcr0: x87 SSE AVX
    dv.setBigUint64(24 + 512, 7n, true); // xstate_bv
    dv.setUint8(600, 0xaa); // first byte of the AVX area
  });
  const msrs = filled(8 + 32, (dv) => {
    dv.setUint32(0, 2, true);
    dv.setUint32(8, 0x48, true);
    dv.setBigUint64(16, 1n, true);
    dv.setUint32(24, 0xc0000103, true);
    dv.setBigUint64(32, 5n, true);
  });
  const compat = filled(1016, (dv) => dv.setBigUint64(512 + 16 * 8, 0xffffffff81000000n, true)); // rip
  const data = hvmBlob([
    [2, 0, compat],
    [5, 0, new Uint8Array(16)], // LAPIC, zero-extended from 16 of 24 bytes
    [16, 0, xsave],
    [20, 0, msrs],
    [21, 0, Uint8Array.of(1, 2, 3, 4)], // unknown typecode
  ]);

  it('compat CPU, XSAVE with its header and extended area, named MSRs, unknown typecode kept as bytes', () => {
    const { entries } = decodeHvmEntries(data);
    const [, cpu, lapic, xs, msr, unknown] = entries;
    expect(cpu.decoded?.layout.name).toBe('hvm_hw_cpu_compat');
    expect((cpu.decoded?.value as { rip: bigint } | undefined)?.rip).toBe(0xffffffff81000000n);
    expect(lapic.decoded).toMatchObject({ length: 16 });
    const x = xs.decoded?.value as { xcr0: bigint; xsave_hdr: { xstate_bv: bigint }; extended: Uint8Array };
    expect(x.xsave_hdr.xstate_bv).toBe(7n);
    expect(x.extended.length).toBe(832 - 600);
    expect(x.extended[0]).toBe(0xaa);
    const m = msr.decoded?.value as { count: number; msr: Array<{ index: number; val: bigint }> };
    expect(m.count).toBe(2);
    expect(m.msr.map((e) => e.index)).toEqual([0x48, 0xc0000103]);
    expect(unknown).toMatchObject({ name: 'type21', typecode: 21 });
    expect(unknown.decoded).toBeUndefined();
    // The framing check still refuses the unknown typecode; decoding keeps it.
    expect(hvmContextProblems(data).map((p) => p.rule)).toContain('HVM_CONTEXT_ENTRY');
    expect(recordParts(hvmRecord(data)).find((p) => p.key === 'HVM_CONTEXT type21[0]')?.layout.size).toBe(4);
  });

  it('JSON: MSR index names in the text, fields beside the bytes; an edit past a short entry is refused', () => {
    const j = recordToJson(hvmRecord(data));
    const entries = (j.body as { entries: HvmEntryJsonForm[] }).entries;
    expect(entries.map((e) => e.layout)).toEqual(['hvm_save_header', 'hvm_hw_cpu_compat', 'hvm_hw_lapic', 'hvm_hw_cpu_xsave', 'hvm_msr', undefined, undefined]);
    const lapic = entries[2];
    (lapic.fields as Record<string, unknown>).tdt_msr = '0x1';
    expect(() => recordFromJson(j)).toThrow(/holds 16 of 24 bytes/);
    (lapic.fields as Record<string, unknown>).tdt_msr = '0x0';
    (lapic.fields as Record<string, unknown>).timer_divisor = 3;
    const edited = recordFromJson(j);
    expect(dataView((edited.body as OpaqueBody).data).getUint32(entries[2].offset + 8 + 12, true)).toBe(3);
    // Without fields the raw bytes are taken as they are.
    const raw = structuredClone(j);
    for (const e of (raw.body as { entries: HvmEntryJsonForm[] }).entries) delete e.fields;
    expect(Buffer.from(encodeRecord(recordFromJson(raw))).equals(Buffer.from(encodeRecord(hvmRecord(data))))).toBe(true);
  });
});

describe('hand-made PV vCPU records', () => {
  it('X86_PV_VCPU_XSAVE: xcr0, the XSAVE header and the extended area; X86_PV_VCPU_MSRS: named MSRs', () => {
    const xsave = filled(16 + 512 + 64 + 256, (dv) => {
      dv.setBigUint64(0, 7n, true); // xcr0
      dv.setBigUint64(16 + 512, 7n, true); // xstate_bv
    });
    const [x] = recordParts(makeRecord('libxc', 'X86_PV_VCPU_XSAVE', { kind: 'vcpu', vcpuId: 1, reserved: 0, context: xsave }));
    expect(x.key).toBe('X86_PV_VCPU_XSAVE[1]');
    expect(x.layout.name).toBe('pv_vcpu_xsave');
    expect(x.value).toMatchObject({ xcr0: 7n, xsave_hdr: { xstate_bv: 7n } });
    expect((x.value as { extended: Uint8Array }).extended.length).toBe(256);
    const msrs = filled(32, (dv) => {
      dv.setUint32(0, 0xc0000080, true);
      dv.setBigUint64(8, 0xd01n, true);
      dv.setUint32(16, 0x48, true);
    });
    const [m] = recordParts(makeRecord('libxc', 'X86_PV_VCPU_MSRS', { kind: 'vcpu', vcpuId: 0, reserved: 0, context: msrs }));
    expect(m.value).toMatchObject({ msr: [{ index: 0xc0000080, val: 0xd01n }, { index: 0x48 }] });
    const index = m.layout.fields[0].type as unknown as { fields: ReadonlyArray<{ values?: Record<number, string> }> };
    expect(index.fields[0].values?.[0xc0000080]).toBe('EFER');
    // A BASIC context of neither width's size stays bytes.
    const [odd] = recordParts(makeRecord('libxc', 'X86_PV_VCPU_BASIC', { kind: 'vcpu', vcpuId: 0, reserved: 0, context: new Uint8Array(100) }));
    expect(odd.layout.fields.map((f) => f.name)).toEqual(['data']);
  });
});

/** Every scalar (not array) leaf of a record's decoded JSON: its path inside `fields`, type and byte range in the body. */
function scalarLeaves(r: StreamRecord): Array<{ entry: number | undefined; path: string; type: ScalarType; offset: number }> {
  const out: Array<{ entry: number | undefined; path: string; type: ScalarType; offset: number }> = [];
  for (const [k, part] of recordParts(r).entries()) {
    const entry = r.body.kind === 'opaque' ? decodeHvmEntries(r.body.data).entries.filter((e) => e.typecode !== 0)[k] : undefined;
    const base = entry ? entry.offset + 8 : 8;
    walkLayout(part.layout, part.value, ({ path, field, offset }) => {
      if (isScalarField(field) && field.count === undefined) out.push({ entry: entry ? k : undefined, path, type: field.type, offset: base + offset });
      return undefined;
    });
  }
  return out;
}

function setPath(obj: Record<string, unknown>, path: string, v: unknown): void {
  const keys = path.split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== '');
  let o = obj as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[keys[keys.length - 1]] = v;
}

function jsonScalar(type: ScalarType): fc.Arbitrary<number | string> {
  const bits = 8 * SCALAR_SIZES[type];
  if (type === 'u64') return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => `0x${v.toString(16)}`);
  if (type === 'i64') return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
  if (type.startsWith('i')) return fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 });
  return fc.integer({ min: 0, max: 2 ** bits - 1 });
}

describe('edit one decoded field in the JSON form', () => {
  const records: StreamRecord[] = [
    hvmRecord(
      hvmBlob([
        [2, 0, new Uint8Array(1032).fill(0x11)],
        [3, 0, new Uint8Array(8).fill(0x22)],
        [6, 0, new Uint8Array(1024).fill(0x33)],
        [16, 0, new Uint8Array(640).fill(0x44)],
        [14, 0, new Uint8Array(240).fill(0x55)],
      ]),
    ),
    makeRecord('libxc', 'X86_PV_VCPU_BASIC', { kind: 'vcpu', vcpuId: 0, reserved: 0, context: new Uint8Array(0x1430).fill(0x66) }),
    makeRecord('libxc', 'X86_PV_VCPU_BASIC', { kind: 'vcpu', vcpuId: 1, reserved: 0, context: new Uint8Array(0xaf0).fill(0x77) }),
    makeRecord('libxc', 'X86_PV_VCPU_EXTENDED', { kind: 'vcpu', vcpuId: 0, reserved: 0, context: new Uint8Array(64).fill(0x01) }),
    makeRecord('libxc', 'X86_PV_VCPU_MSRS', { kind: 'vcpu', vcpuId: 0, reserved: 0, context: new Uint8Array(48).fill(0x02) }),
  ];

  it('decode → edit → encode → decode gives the edited value, and only that field’s bytes change', () => {
    const cases = records.map((r) => ({ r, leaves: scalarLeaves(r), before: encodeRecord(r) }));
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: cases.length - 1 })
          .chain((c) =>
            fc.integer({ min: 0, max: cases[c].leaves.length - 1 }).chain((l) => fc.tuple(fc.constant(c), fc.constant(l), jsonScalar(cases[c].leaves[l].type))),
          ),
        ([c, l, v]) => {
          const { r, leaves, before } = cases[c];
          const leaf = leaves[l];
          const j = JSON.parse(JSON.stringify(recordToJson(r)));
          const fields = leaf.entry === undefined ? j.body.fields : j.body.entries[leaf.entry].fields;
          setPath(fields, leaf.path, v);
          const after = encodeRecord(recordFromJson(j));
          const again = recordToJson(recordFromJson(JSON.parse(JSON.stringify(recordToJson(recordFromJson(j))))));
          const fieldsAgain = (leaf.entry === undefined ? again.body : (again.body as { entries: HvmEntryJsonForm[] }).entries[leaf.entry]) as {
            fields: object;
          };
          expect(fieldsAgain.fields, leaf.path).toEqual(fields);
          const size = SCALAR_SIZES[leaf.type];
          for (let i = 0; i < before.length; i++) {
            const inField = i >= 8 + leaf.offset && i < 8 + leaf.offset + size; // 8: the record header
            if (!inField && before[i] !== after[i]) throw new Error(`byte ${i} changed outside ${leaf.path}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
