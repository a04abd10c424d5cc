/**
 * Legacy (pre-Xen-4.6) images built from the real Xen 4.17 saves (fixtures/xen-4.17, PV and HVM) by
 * the test-side legacy writer (test/support/legacy-writer.ts, after Xen 4.5's xc_domain_save): the
 * legacy reader finds every piece at its offset, the shape (container, toolstack width, guest type)
 * is inferred, and the converter gives back the records and the memory of the original save, and the
 * same records and memory as Xen's own convert-legacy-stream (skipped, with the reason, when absent).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffStreams } from '../src/inspect/diff.js';
import { convertLegacy } from '../src/legacy/convert-legacy.js';
import { readLegacy } from '../src/legacy/legacy-reader.js';
import { legacyShape } from '../src/legacy/legacy-layout.js';
import type { LegacyItem } from '../src/legacy/legacy-items.js';
import { FileSink } from '../src/writer/file-sink.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { StreamWriter } from '../src/writer/stream-writer.js';
import { layoutCodec } from '../src/codec/layout-codec.js';
import { LEGACY_PHYSMAP_ENTRY } from '../src/format/layouts/legacy.js';
import { physmapPairs } from '../src/legacy/physmap.js';
import { StreamFormatError } from '../src/codec/errors.js';
import { writeLegacyImage, type LegacyWriterOptions } from './support/legacy-writer.js';
import { streamMeaning, type StreamMeaning } from './support/stream-meaning.js';
import { findXenLegacyConverter } from './support/xen-legacy-converter.js';
import { findXenVerifier } from './support/xen-verifier.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/xen-4.17');
const { converter, reason: converterMissing } = findXenLegacyConverter();
const { verifier, reason: verifierMissing } = findXenVerifier();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'legacy-convert-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case extends LegacyWriterOptions {
  fixture: 'pv128-save' | 'hvm128-save';
  guest: 'pv' | 'hvm';
}

const CASES: Case[] = [
  { fixture: 'pv128-save', guest: 'pv', container: 'xl', width: 64 },
  { fixture: 'pv128-save', guest: 'pv', container: 'libxc', width: 32 },
  { fixture: 'hvm128-save', guest: 'hvm', container: 'xl', width: 64 },
  { fixture: 'hvm128-save', guest: 'hvm', container: 'xend', width: 32 },
];

const name = (c: Case) => `${c.fixture}-${c.container}-${c.width}`;

async function items(file: string): Promise<LegacyItem[]> {
  const out: LegacyItem[] = [];
  for await (const item of readLegacy(file)) out.push(item);
  return out;
}

/** The original's meaning minus what a legacy image cannot carry. */
function carried(m: StreamMeaning, params: Map<string, string>): StreamMeaning {
  const lost = ['libxc:X86_CPUID_POLICY', 'libxc:X86_MSR_POLICY', 'libxc:X86_PV_VCPU_MSRS'];
  return { ...m, records: m.records.filter((r) => !lost.includes(r.split(' ')[0])), params: new Map([...m.params].filter(([k]) => params.has(k))) };
}

describe.each(CASES)('legacy image $fixture in $container container, $width-bit toolstack', (c) => {
  const legacy = () => join(dir, `${name(c)}.legacy`);
  const original = join(FIXTURES, `${c.fixture}.bin.gz`);

  beforeAll(async () => {
    await writeLegacyImage(original, legacy(), c);
  }, 120_000);
  afterAll(() => rmSync(legacy(), { force: true }));

  it('its shape is inferred from the first bytes: container, toolstack width, guest type', () => {
    const head = readFileSync(legacy()).subarray(0, 4096);
    expect(legacyShape(head)).toMatchObject({ container: c.container, width: c.width, guest: c.guest });
  });

  it('the reader finds every piece in order, each starting where the previous ends, up to the end of the file', async () => {
    const all = await items(legacy());
    let at = 0;
    for (const item of all) {
      expect(item.offset).toBe(at);
      at += item.length;
    }
    expect(at).toBe(statSync(legacy()).size);
    const kinds = [...new Set(all.map((i) => i.kind))];
    expect(kinds).toEqual(
      c.guest === 'pv'
        ? ['container', 'p2m-size', 'extended-info', 'p2m-frames', 'chunk', 'page-batch', 'body-end', 'unmapped-pfns', 'vcpu', 'shared-info']
        : ['container', 'p2m-size', 'chunk', 'page-batch', 'body-end', 'magic-pfns', 'hvm-context', 'qemu'],
    );
    const chunks = all.flatMap((i) => (i.kind === 'chunk' ? [i.name] : []));
    expect(chunks).toContain('tsc_info');
    expect(chunks).toContain('vcpu_info');
    if (c.guest === 'hvm') expect(chunks.filter((n) => n.startsWith('hvm_')).length).toBeGreaterThan(3);
  });

  it('converts to a v2 stream with the records and the memory of the original save (less what legacy cannot carry)', async () => {
    const out = join(dir, `${name(c)}.v2`);
    const r = await convertLegacy(legacy(), await FileSink.create(out));
    expect(r).toMatchObject({ container: c.container, guest: c.guest, width: c.width, inferred: { width: true, guest: true } });
    const [mine, orig] = await Promise.all([streamMeaning(out), streamMeaning(original)]);
    const expected = carried(orig, mine.params);
    expect(mine.records).toEqual(expected.records);
    expect(mine.params).toEqual(expected.params);
    // The HVM params a legacy image carries: the three magic pfns and the chunks' ones that 4.17 saved.
    if (c.guest === 'hvm') expect([...mine.params.keys()]).toEqual(expect.arrayContaining(['1', '5', '6']));
    const d = await diffStreams(original, out);
    expect({ onlyInA: d.pagesOnlyInA, onlyInB: d.pagesOnlyInB, differing: d.pagesDiffering }).toEqual({ onlyInA: 0, onlyInB: 0, differing: 0 });
    rmSync(out);
  }, 120_000);

  it("the converted stream passes Xen's verify-stream-v2", async (ctx) => {
    if (!verifier) return ctx.skip(verifierMissing);
    const out = join(dir, `${name(c)}.verify.v2`);
    await convertLegacy(legacy(), await FileSink.create(out));
    const r = verifier.run(out, c.container === 'xl' ? 'xl' : 'libxl');
    expect(r.status, r.output).toBe(0);
    rmSync(out);
  }, 120_000);

  // Xen's converter reads only the "DeviceModelRecord0002" QEMU record, not xend's rest-of-file "QemuDeviceModelRecord".
  const why = c.container === 'xend' && c.guest === 'hvm' ? "Xen's convert-legacy-stream does not read xend's QemuDeviceModelRecord" : converterMissing;
  it("gives the same records and the same memory as Xen's convert-legacy-stream", async (ctx) => {
    if (why !== undefined || !converter) return ctx.skip(why);
    // Xen's -x (xl header) mode fails under Python 3: hand it the bare body.
    const body = join(dir, `${name(c)}.body`);
    const head = (await items(legacy()))[0];
    writeFileSync(body, readFileSync(legacy()).subarray(head.length));
    const theirs = join(dir, `${name(c)}.xen.v2`);
    const ran = converter.convert(body, theirs, c.width, c.guest);
    expect(ran.status, ran.output).toBe(0);
    const mine = join(dir, `${name(c)}.mine.v2`);
    await convertLegacy(body, await FileSink.create(mine));
    const [a, b] = await Promise.all([streamMeaning(theirs), streamMeaning(mine)]);
    expect(b.records).toEqual(a.records);
    expect(b.params).toEqual(a.params);
    const d = await diffStreams(theirs, mine);
    expect({ onlyInA: d.pagesOnlyInA, onlyInB: d.pagesOnlyInB, differing: d.pagesDiffering }).toEqual({ onlyInA: 0, onlyInB: 0, differing: 0 });
    for (const f of [body, theirs, mine]) rmSync(f);
  }, 120_000);
});

/** A tiny legacy HVM body (64-bit toolstack) ending with `chunks`, for the refusals. */
function tinyHvm(...chunks: number[][]): Uint8Array {
  const words = [0xff000, 0, ...chunks.flat()]; // p2m size up to the HVM special pages
  return new Uint8Array(Int32Array.from(words).buffer); // little-endian host (x86, as the streams)
}

async function convertError(bytes: Uint8Array, options = {}): Promise<StreamFormatError> {
  const e = await convertLegacy(bytes, new MemorySink(), options).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(StreamFormatError);
  return e as StreamFormatError;
}

describe('refusals', () => {
  it('what only resembles a bare HVM image (a back-channel capture: small record numbers) is not taken for one', () => {
    expect(legacyShape(new Uint8Array(Uint32Array.of(5, 4, 1, 5, 4, 2, 0, 0).buffer))).toBeUndefined();
    expect(legacyShape(tinyHvm([-7]))).toMatchObject({ container: 'libxc', width: 64, guest: 'hvm' });
  });

  it('an unknown chunk id: LEGACY-STREAM at the chunk', async () => {
    const e = await convertError(tinyHvm([-2, 0, 1, 0], [-99]));
    expect([e.ruleId, e.offset]).toEqual(['LEGACY-STREAM', 24]);
  });

  it('Remus-compressed pages and tmem: LEGACY-STREAM naming them', async () => {
    for (const id of [-12, -5]) {
      const e = await convertError(tinyHvm([-2, 0, 1, 0], [id, 0]));
      expect(e.ruleId).toBe('LEGACY-STREAM');
      expect(e.message).toMatch(/compress|tmem/);
    }
  });

  it('a truncated image: STREAM-TRUNCATED where the bytes stop', async () => {
    const e = await convertError(tinyHvm([-2, 0, 1, 0], [5, 0x10]));
    expect([e.ruleId, e.offset]).toEqual(['STREAM-TRUNCATED', 32]);
  });

  it('a guest type given against what the image says: LEGACY-STREAM', async () => {
    const e = await convertError(tinyHvm([-2, 0, 1, 0], [0]), { guest: 'pv' });
    expect(e.ruleId).toBe('LEGACY-STREAM');
    expect(e.message).toMatch(/HVM guest, not PV/);
  });

  it('an xl header claiming a huge config: LEGACY-STREAM at optional_data_len, before buffering it', async () => {
    const head = new Uint8Array(64);
    head.set(Buffer.from('Xen saved domain, xl format\n \0 \r', 'latin1'));
    new DataView(head.buffer).setUint32(32, 0x01020304, true);
    new DataView(head.buffer).setUint32(36, 1, true);
    new DataView(head.buffer).setUint32(44, 0xfffffff0, true);
    const e = await convertError(head);
    expect([e.ruleId, e.offset]).toEqual(['LEGACY-STREAM', 44]);
  });

  it('an image without a tsc_info chunk: LEGACY-STREAM at the end chunk', async () => {
    const bytes = new Uint8Array([...tinyHvm([-2, 0, 1, 0], [0]), ...new Uint8Array(24), 1, 0, 0, 0, 0]);
    const e = await convertError(bytes);
    expect([e.ruleId, e.offset]).toEqual(['LEGACY-STREAM', 24]);
    expect(e.message).toMatch(/tsc_info/);
  });
});

describe("the writer's legacy-converted markers", () => {
  it('xen_major 0, the libxl LEGACY option and emulator id 0 are written only when the writer is told the stream is converted', async () => {
    const plain = new StreamWriter(new MemorySink(), { mode: 'plain', guest: 'hvm' });
    await plain.writeLibxlHeader();
    await plain.writeLibxcContext();
    await expect(plain.writeLibxcHeaders({ xenMajor: 0, xenMinor: 1 })).rejects.toThrow(/legacy-converted/);
    const sink = new MemorySink();
    const converted = new StreamWriter(sink, { mode: 'plain', guest: 'hvm', legacyConverted: true });
    await converted.writeLibxlHeader();
    await converted.writeLibxcContext();
    await converted.writeLibxcHeaders({ xenMajor: 0, xenMinor: 1 });
    const bytes = sink.bytes();
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, false)).toBe(2); // libxl options: LEGACY
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(24 + 24 + 8, true)).toBe(0); // domain header xen_major
  });
});

describe("libxl's toolstack chunk (physmap)", () => {
  /** Version 1, one entry; a 64-bit libxl left 4 bytes of struct padding after each name. */
  function toolstack(width: 32 | 64): Uint8Array {
    const head = layoutCodec(LEGACY_PHYSMAP_ENTRY).encode({ phys_offset: 0xf0000000n, start_addr: 0xfc000000n, size: 0x800000n, namelen: 8 });
    const name = Buffer.from('vga.vram\0', 'latin1').subarray(0, 8);
    const tail = new Uint8Array(width === 64 ? 4 : 0).fill(0xaa);
    return Uint8Array.from([...new Uint8Array(Uint32Array.of(1, 1).buffer), ...head, ...name.subarray(0, 7), 0, ...tail]);
  }

  it.each([32, 64] as const)('%i-bit toolstack: its entries become EMULATOR_XENSTORE_DATA keys, in hex like libxl', (width) => {
    expect(physmapPairs(toolstack(width), width, 0)).toEqual([
      ['physmap/f0000000/start_addr', 'fc000000'],
      ['physmap/f0000000/size', '800000'],
      ['physmap/f0000000/name', 'vga.vra'],
    ]);
  });

  it('a name without its NUL, or entries running past the data: LEGACY-STREAM', () => {
    const noNul = toolstack(32);
    noNul[noNul.length - 1] = 0x6d;
    expect(() => physmapPairs(noNul, 32, 100)).toThrow(/LEGACY-STREAM.*NUL/);
    expect(() => physmapPairs(toolstack(32), 64, 100)).toThrow(/LEGACY-STREAM.*overruns/);
  });
});
