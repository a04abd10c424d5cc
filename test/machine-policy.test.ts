/**
 * CPUID/MSR policies in words and QEMU's savevm sections: on the real Xen
 * 4.17.5 saves (fixtures/xen-4.17) and on hand-made edge cases.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { layoutCodec } from '../src/codec/layout-codec.js';
import { XEN_CPUID_LEAF, XEN_MSR_ENTRY } from '../src/format/layouts/x86-policy.js';
import { cpuidPolicyCodec, msrPolicyCodec } from '../src/codec/bodies/x86-common.js';
import { cpuidLeafLayout, cpuPolicySummary, familyModelStepping } from '../src/codec/machine/cpu-policy.js';
import { recordParts } from '../src/codec/machine/parts.js';
import { parseQemuSavevm } from '../src/codec/machine/qemu-savevm.js';
import type { StreamRecord } from '../src/codec/records.js';
import { CPU_FEATURE_WORDS } from '../src/format/cpu-features.js';
import { type Layout, layoutField, type ScalarField } from '../src/format/layout.js';
import { partsDifferences, type FieldDifference } from '../src/inspect/diff-fields.js';
import { readStreamSync } from '../src/reader/stream-reader.js';
import { recordFields } from '../src/inspect/record-fields.js';

const DIR = join(import.meta.dirname, '../fixtures/xen-4.17');

/** The first `n` bytes of a gzipped fixture (the policies sit at its start). */
async function head(name: string, n: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let got = 0;
  const gunzip = createReadStream(join(DIR, name)).pipe(createGunzip());
  for await (const c of gunzip) {
    chunks.push(c as Buffer);
    got += (c as Buffer).length;
    if (got >= n) break;
  }
  gunzip.destroy();
  return new Uint8Array(Buffer.concat(chunks).subarray(0, n));
}

/** Records of a stream prefix, up to where it is cut. */
function recordsOf(bytes: Uint8Array): StreamRecord[] {
  const out: StreamRecord[] = [];
  try {
    for (const item of readStreamSync(bytes)) if (item.kind === 'record') out.push(item.record);
  } catch {
    // the prefix ends inside a record
  }
  return out;
}

const leaf = (l: number, s: number, a = 0, b = 0, c = 0, d = 0) => ({ leaf: l, subleaf: s, a, b, c, d });
const NO = 0xffffffff;
const cpuidRecord = (leaves: ReturnType<typeof leaf>[]): StreamRecord => ({
  layer: 'libxc',
  type: 0x11,
  name: 'X86_CPUID_POLICY',
  body: { kind: 'cpuid-policy', leaves },
});

describe('CPUID and MSR policies of the real Xen 4.17.5 saves', () => {
  it.each(['hvm128-save.bin.gz', 'pv128-save.bin.gz', 'pvh128-save.bin.gz'])('%s: a v3 stream carrying both policies, read in words', async (name) => {
    const recs = recordsOf(await head(name, 64 * 1024));
    const cpuid = recs.find((r) => r.body.kind === 'cpuid-policy');
    const msr = recs.find((r) => r.body.kind === 'msr-policy');
    if (cpuid?.body.kind !== 'cpuid-policy' || msr?.body.kind !== 'msr-policy') throw new Error('no policies');
    expect(cpuid.body.leaves.length).toBe(51);
    const s = cpuPolicySummary(cpuid.body.leaves.slice(), msr.body.entries.slice());
    // The lab's QEMU TCG CPU (qemu64): what the guest was shown.
    expect(s).toMatchObject({
      vendor: 'AuthenticAMD',
      brand: 'QEMU Virtual CPU version 2.5+',
      family: 15,
      model: 107,
      stepping: 1,
      maxBasicLeaf: 0xd,
      maxExtendedLeaf: 0x80000021,
    });
    for (const f of ['fpu', 'sse2', 'cx16', 'hypervisor', 'syscall', 'nx', 'lm']) expect(s.features.has(f)).toBe(true);
    expect(s.features.has('avx512f')).toBe(false);
    expect(s.features.get('sse2')?.where).toBe('CPUID 0x1 edx bit 26');
    expect(s.unnamedBits).toEqual([]);
    expect(msr.body.entries.map((e) => e.idx)).toEqual([0xce, 0x10a]);
    const text = recordFields(cpuid).summary;
    expect(text).toContain('51 leaves: "AuthenticAMD" "QEMU Virtual CPU version 2.5+" family 15 (0xf) model 107 (0x6b) stepping 1');
    expect(recordFields(msr).details[1]).toMatch(/^msr 0x10a \(ARCH_CAPABILITIES\) = 0x0/);
  });
});

describe('CPUID policy edge cases', () => {
  it('feature names come from Xen 4.17 cpufeatureset.h, per CPUID register', () => {
    expect(CPU_FEATURE_WORDS.length).toBe(18);
    const leaf7 = cpuidLeafLayout(7, 0);
    expect((layoutField(leaf7, 'ebx') as ScalarField).bits?.[16]).toBe('avx512f');
    expect((layoutField(leaf7, 'edx') as ScalarField).bits?.[26]).toBe('ibrsb');
    expect(cpuidLeafLayout(0x80000002, NO)).toBe(cpuidLeafLayout(0x80000002, NO));
  });

  it('family/model/stepping combine the extended fields as the manuals say', () => {
    expect(familyModelStepping(0x000306c3)).toEqual({ family: 6, model: 0x3c, stepping: 3 }); // Haswell
    expect(familyModelStepping(0x00a20f12)).toEqual({ family: 0x19, model: 0x21, stepping: 2 }); // Zen 3
    expect(familyModelStepping(0x00000f41)).toEqual({ family: 15, model: 4, stepping: 1 });
  });

  it('unknown set bits are listed by place, and a policy built in code encodes like the decoded one', () => {
    const leaves = [leaf(0, NO, 7, 0x756e6547, 0x6c65746e, 0x49656e69), leaf(7, 0, 0, (1 << 16) | (1 << 30), 0, 0)];
    const s = cpuPolicySummary(leaves);
    expect(s.vendor).toBe('GenuineIntel');
    expect(s.features.has('avx512f')).toBe(true);
    expect(s.unnamedBits).toEqual([]);
    const bytes = Buffer.concat(cpuidPolicyCodec.encode({ kind: 'cpuid-policy', leaves }));
    const decoded = cpuidPolicyCodec.decode(bytes, { offset: 0 } as never, undefined);
    expect(decoded.leaves.slice()).toEqual(leaves);
    expect(Buffer.concat(cpuidPolicyCodec.encode(decoded))).toEqual(bytes);
    const unknown = cpuPolicySummary([leaf(7, 0, 0, 0, 0, 1 << 1)]);
    expect(unknown.unnamedBits).toEqual(['CPUID 0x7.0 edx bit 1']);
    const m = Buffer.concat(msrPolicyCodec.encode({ kind: 'msr-policy', entries: [{ idx: 0x10a, flags: 0, val: 0x21n }] }));
    expect(cpuPolicySummary([], msrPolicyCodec.decode(m, { offset: 0 } as never, undefined).entries.slice()).features.has('mds_no')).toBe(true);
  });

  it('a CPUID change is said by feature name', () => {
    const a = recordParts(cpuidRecord([leaf(7, 0, 0, 1 << 16)]));
    const b = recordParts(cpuidRecord([leaf(7, 0, 0, 1 << 5)]));
    const out: FieldDifference[] = [];
    partsDifferences(a, b, out);
    expect(out.map((d) => `${d.path}: ${d.text}`)).toEqual(['CPUID 0x7.0 ebx: avx2 absent in A, present in B; avx512f present in A, absent in B']);
  });
});

/** A QEVM blob: sections (name, instance, version, data), with or without footers, optional VMDESC. */
function qevm(sections: Array<[string, number, number, number[]]>, opts: { footers?: boolean; vmdesc?: object } = {}): Uint8Array {
  const out: number[] = [0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3];
  const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  sections.forEach(([name, instance, version, data], id) => {
    out.push(4, ...be32(id), name.length, ...Buffer.from(name), ...be32(instance), ...be32(version), ...data);
    if (opts.footers) out.push(0x7e, ...be32(id));
  });
  out.push(0);
  if (opts.vmdesc) {
    const j = Buffer.from(JSON.stringify(opts.vmdesc));
    out.push(6, ...be32(j.length), ...j);
  }
  return new Uint8Array(out);
}

describe("QEMU's savevm stream in EMULATOR_CONTEXT", () => {
  it("the real HVM save's device state: 22 FULL sections, no footers, no VMDESC (xen-save-devices-state)", async () => {
    const bytes = await head('hvm128-save.bin.gz', 1 << 30);
    const rec = recordsOf(bytes).find((r) => r.body.kind === 'emulator-context');
    if (rec?.body.kind !== 'emulator-context') throw new Error('no EMULATOR_CONTEXT');
    const q = parseQemuSavevm(rec.body.blob);
    expect(q?.version).toBe(3);
    expect(q?.eof).toBe(rec.body.blob.length - 1);
    expect(q?.problem).toBeUndefined();
    expect(q?.sections.map((s) => s.name)).toEqual([
      'timer',
      'cpu_common',
      'cpu',
      'apic',
      'PCIBUS',
      '0000:00:00.0/I440FX',
      'dma',
      'dma',
      '0000:00:01.0/PIIX3',
      'ioapic',
      'hpet',
      'mc146818rtc',
      'serial',
      'fdc',
      'ps2kbd',
      'ps2mouse',
      'pckbd',
      'port92',
      '0000:00:01.1/ide',
      'i2c_bus',
      '0000:00:01.3/piix4_pm',
      '0000:00:02.0/platform',
    ]);
    expect(q?.sections.every((s) => s.type === 'FULL' && !s.footer)).toBe(true);
    expect(q?.sections.filter((s) => s.name === 'dma').map((s) => s.instance)).toEqual([0, 1]);
    expect(q?.sections[0]).toMatchObject({ id: 0, version: 2, offset: 8, dataOffset: 27, size: 24 });
    // The last one is xen-platform: i32 PCI version 2, 256 bytes of config space, 16 of irq state, u8 flags.
    expect(q?.sections.at(-1)).toMatchObject({ id: 32, version: 4, size: 4 + 256 + 16 + 1 });
    const sum = q?.sections.reduce((n, s) => n + (s.dataOffset - s.offset) + s.size, 0);
    expect(8 + (sum ?? 0) + 1).toBe(rec.body.blob.length);
    expect(recordFields(rec).summary).toContain('QEMU savevm v3, 22 sections (no footers: sizes found by scanning)');
  }, 60_000);

  it('footers give exact sizes even when the data holds header-like bytes; the VMDESC is kept', () => {
    const fake = [4, 0, 0, 0, 9, 3, 0x61, 0x62, 0x63, 0, 0, 0, 0, 0, 0, 0, 1]; // looks like a FULL header "abc"
    const vmdesc = { page_size: 4096, devices: [{ name: 'dev', instance_id: 0, vmsd_name: 'dev', version: 1, fields: [] }] };
    const q = parseQemuSavevm(
      qevm(
        [
          ['dev', 0, 1, fake],
          ['other', 2, 5, [1, 2]],
        ],
        { footers: true, vmdesc },
      ),
    );
    expect(q?.sections.map((s) => [s.name, s.instance, s.version, s.size, s.footer])).toEqual([
      ['dev', 0, 1, fake.length, true],
      ['other', 2, 5, 2, true],
    ]);
    expect(q?.vmdesc).toEqual(vmdesc);
  });

  it("a blob that is not QEMU's stays a blob; a cut one says where it stopped", () => {
    expect(parseQemuSavevm(new Uint8Array(Buffer.from('not qemu at all')))).toBeUndefined();
    const cut = qevm([['dev', 0, 1, [1, 2, 3]]], { footers: true }).subarray(0, 20);
    expect(parseQemuSavevm(cut)?.problem?.message).toBeDefined();
    const rec: StreamRecord = {
      layer: 'libxl',
      type: 3,
      name: 'EMULATOR_CONTEXT',
      body: { kind: 'emulator-context', emulatorId: 1, index: 0, blob: new Uint8Array(Buffer.from('traditional')) },
    };
    expect(recordFields(rec).summary).toBe('emulator 1 (QEMU traditional), index 0, blob 11 bytes starting "trad"');
    expect(recordParts(rec)).toEqual([]);
  });
});

describe('the policy entry layouts (xen_cpuid_leaf_t, xen_msr_entry_t)', () => {
  it.each([
    ['xen_cpuid_leaf_t', XEN_CPUID_LEAF],
    ['xen_msr_entry_t', XEN_MSR_ENTRY],
  ] as const)('%s: decode → encode gives the bytes back; editing one field changes only its bytes', (_name, layout) => {
    const c = layoutCodec(layout as Layout);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: layout.size, maxLength: layout.size }), fc.nat(layout.fields.length - 1), (bytes, k) => {
        const v = c.decode(bytes) as Record<string, number | bigint>;
        expect(Buffer.from(c.encode(v as never))).toEqual(Buffer.from(bytes));
        const f = layout.fields[k];
        const edited = { ...v, [f.name]: typeof v[f.name] === 'bigint' ? (v[f.name] as bigint) ^ 1n : ((v[f.name] as number) ^ 1) >>> 0 };
        const out = c.encode(edited as never);
        for (let i = 0; i < layout.size; i++) if (i !== f.offset) expect(out[i]).toBe(bytes[i]);
        expect(out[f.offset]).toBe(bytes[f.offset] ^ 1);
      }),
    );
  });
});
