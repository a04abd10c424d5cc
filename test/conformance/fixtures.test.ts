/**
 * Conformance runner: every fixture of fixtures/MANIFEST.json is checked for
 * its verdict (strict and lenient), record counts, decode → encode
 * byte-exactness, JSON document round trip byte-exactness, the digest of the
 * guest memory it implies (our own walk, and `extract`'s image for small
 * ones) and, for plain upstream streams, agreement with the Kaitai-compiled
 * parser of spec/xen-migration-stream.ksy (record boundaries, types, lengths,
 * key fields).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDocumentChunks, encodeItemChunks, itemToJson, parseStreamDocument } from '../../src/codec/index.js';
import { extractStream } from '../../src/inspect/extract.js';
import { readStreamSync, type ReaderOptions, type StreamItem } from '../../src/reader/index.js';
import { compileKsy, kaitaiWalkSync, type KaitaiRecord } from '../support/kaitai.js';
import {
  FIXTURES_DIR,
  fixtureBytes,
  loadManifest,
  memoryDigest,
  memoryOf,
  outcomeOf,
  recordCounts,
  sha256,
  toEncodable,
  type ManifestEntry,
} from '../support/conformance-manifest.js';

const manifest = loadManifest();
const tmp = mkdtempSync(join(tmpdir(), 'xms-conformance-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await compileKsy();
});

/** Compare `chunk` with `bytes` at `pos` without copying; returns the new position or throws naming the item. */
function compareAt(bytes: Uint8Array, pos: number, chunk: Uint8Array, what: string): number {
  const want = bytes.subarray(pos, pos + chunk.length);
  if (
    want.length !== chunk.length ||
    Buffer.compare(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length), Buffer.from(want.buffer, want.byteOffset, want.length)) !== 0
  ) {
    let i = 0;
    while (i < chunk.length && chunk[i] === want[i]) i++;
    throw new Error(`${what}: re-encoded bytes differ from the input at offset ${pos + i}`);
  }
  return pos + chunk.length;
}

const readerOptions = (e: ManifestEntry): ReaderOptions => ({ ...e.options });
const isLarge = (e: ManifestEntry) => e.bytes > 8 * 1024 * 1024;

describe('fixtures/MANIFEST.json', () => {
  it('lists every file of fixtures/conformance and the real Xen streams, each once', () => {
    const files = manifest.fixtures.map((f) => f.file);
    expect(new Set(files).size).toBe(files.length);
    for (const real of ['hvm128-save', 'pv128-save', 'pvh128-save']) expect(files).toContain(`xen-4.17/${real}.bin.gz`);
    // Every mode and container is represented, valid and invalid fixtures too.
    expect(new Set(manifest.fixtures.map((f) => f.mode))).toEqual(new Set(['plain', 'remus', 'colo', 'postcopy-rfc']));
    expect(new Set(manifest.fixtures.map((f) => f.container))).toEqual(new Set(['xl', 'libxl', 'libxc']));
    expect(manifest.fixtures.some((f) => f.strict.verdict === 'invalid')).toBe(true);
  });

  it('keeps fixtures/conformance small (a few MiB)', () => {
    const total = manifest.fixtures.filter((f) => f.origin !== 'xen').reduce((n, f) => n + statSync(new URL(f.file, FIXTURES_DIR)).size, 0);
    expect(total).toBeLessThan(4 * 1024 * 1024);
  });
});

for (const entry of manifest.fixtures) {
  describe(`${entry.file} (${entry.origin}, ${entry.container}/${entry.guest}/${entry.mode})`, () => {
    let bytes: Uint8Array;
    let items: StreamItem[] = [];
    beforeAll(() => {
      bytes = fixtureBytes(entry);
      if (entry.lenient.verdict === 'valid') items = readStreamSync(bytes, { ...readerOptions(entry), strict: false }).readAll().items;
    });

    it('bytes and sha256', () => {
      expect(bytes.length).toBe(entry.bytes);
      expect(sha256(bytes)).toBe(entry.sha256);
      if (entry.gzSha256) expect(sha256(readFileSync(new URL(entry.file, FIXTURES_DIR)))).toBe(entry.gzSha256);
    });

    it('verdict, strict and lenient', () => {
      expect(outcomeOf(bytes, { ...readerOptions(entry), strict: true })).toEqual(entry.strict);
      expect(outcomeOf(bytes, { ...readerOptions(entry), strict: false })).toEqual(entry.lenient);
    });

    if (entry.lenient.verdict !== 'valid') return;

    it('record counts per layer:NAME', () => {
      expect(recordCounts(items)).toEqual(entry.records);
    });

    it('decode → encode is byte-exact (every item re-encoded with the codec)', () => {
      let pos = 0;
      for (const item of items) {
        expect(item.offset).toBe(pos);
        for (const c of encodeItemChunks(toEncodable(item, bytes), entry.dialect)) pos = compareAt(bytes, pos, c, `${item.kind} at ${item.offset}`);
      }
      // Complete streams are covered to the last byte; a failover leaves at most a partial record.
      if (entry.lenient.verdict === 'valid' && entry.lenient.end === 'complete') expect(pos).toBe(bytes.length);
      else expect(bytes.length - pos).toBeLessThan(bytes.length);
    });

    it('JSON document round trip is byte-exact', () => {
      const dialect = entry.dialect;
      if (!isLarge(entry)) {
        const doc = { format: 'xen-migration-stream/1', dialect, items: items.map((i) => itemToJson(toEncodable(i, bytes), dialect)) };
        const back = parseStreamDocument(JSON.parse(JSON.stringify(doc)));
        let pos = 0;
        for (const c of encodeDocumentChunks(back)) pos = compareAt(bytes, pos, c, 'JSON document');
        expect(pos).toBe(items.reduce((n, i) => n + i.length, 0));
        return;
      }
      // Large streams: the same, one item per document (the whole document would be a ~190 MB string).
      let pos = 0;
      for (const i of items) {
        const doc = parseStreamDocument(
          JSON.parse(JSON.stringify({ format: 'xen-migration-stream/1', dialect, items: [itemToJson(toEncodable(i, bytes), dialect)] })),
        );
        for (const c of encodeDocumentChunks(doc)) pos = compareAt(bytes, pos, c, `JSON of ${i.kind} at ${i.offset}`);
      }
      expect(pos).toBe(items.reduce((n, i) => n + i.length, 0));
    });

    if (entry.memory) {
      const mem = entry.memory;
      it('memory digest (pfn p at p × 4096, last copy wins, last complete checkpoint)', () => {
        const r = readStreamSync(bytes, { ...readerOptions(entry), strict: false }).readAll();
        expect(memoryDigest(memoryOf(r.items, r.end))).toEqual(mem);
      });

      if (mem.imageSha256) {
        it('stream-inspect extract gives the same memory image', async () => {
          const out = join(tmp, `${entry.file.replace(/\W/g, '_')}.mem`);
          const res = await extractStream(bytes, { memory: out, reader: { ...readerOptions(entry), strict: false } });
          expect(res.pages).toBe(mem.pages);
          const img = readFileSync(out);
          const used = (mem.maxPfn + 1) * 4096;
          expect(img.length).toBeGreaterThanOrEqual(used);
          expect(sha256(img.subarray(0, used))).toBe(mem.imageSha256);
          expect(img.subarray(used).every((b) => b === 0)).toBe(true);
        });
      }
    }

    const kaitaiComparable = entry.mode === 'plain' && entry.dialect === 'upstream' && entry.lenient.verdict === 'valid' && entry.lenient.problems.length === 0;
    // The .ksy reads xl headers of little-endian hosts only (like x86 xl, which refuses the other order).
    const bigEndianXl = bytes_isBigEndianXl(entry);
    if (kaitaiComparable && bigEndianXl) {
      it('the Kaitai-compiled parser refuses the big-endian xl header (as x86 xl does; this reader accepts it)', () => {
        expect(() => kaitaiWalkSync(bytes)).toThrow(/not equal/);
      });
    } else if (kaitaiComparable) {
      it('the Kaitai-compiled parser agrees: boundaries, types, lengths, key fields', () => {
        const k = kaitaiWalkSync(bytes);
        expect(k.length).toBe(items.length);
        items.forEach((item, n) => {
          expect(kaitaiView(k[n])).toEqual(ourView(item));
        });
      });
    }
  });
}

function bytes_isBigEndianXl(e: ManifestEntry): boolean {
  if (e.container !== 'xl' || isLarge(e)) return false;
  const b = fixtureBytes(e);
  return b[32] === 1 && b[33] === 2 && b[34] === 3 && b[35] === 4;
}

type View = Record<string, number | string | undefined>;

function kaitaiView(k: KaitaiRecord): View {
  const v: View = { layer: k.layer, offset: k.offset, size: k.size };
  if (k.kind === 'header') {
    v.header = k.header;
    if (k.header === 'libxl' || k.header === 'image') v.version = k.version;
    if (k.header === 'domain') Object.assign(v, { domainType: k.domainType, pageShift: k.pageShift, xenMajor: k.xenMajor, xenMinor: k.xenMinor });
    if (k.header === 'xl') Object.assign(v, { mandatoryFlags: k.mandatoryFlags, configLen: k.configLen });
    return v;
  }
  Object.assign(v, { type: k.type, name: k.typeName, bodyLength: k.bodyLength });
  if (k.layer === 'libxc' && k.type === 1) Object.assign(v, { count: k.count, dataPages: k.dataPages });
  if (k.layer === 'libxc' && k.type === 0x0a) v.count = k.count;
  if (k.layer === 'libxc' && k.type === 0x02) Object.assign(v, { guestWidth: k.guestWidth, ptLevels: k.ptLevels });
  if (k.layer === 'libxc' && [4, 5, 6, 0x0c].includes(k.type as number)) v.vcpuId = k.vcpuId;
  if (k.layer === 'libxc' && k.type === 8) v.tscKhz = k.tscKhz;
  if (k.layer === 'libxl' && (k.type === 2 || k.type === 3)) v.emulatorId = k.emulatorId;
  return v;
}

function ourView(i: StreamItem): View {
  switch (i.kind) {
    case 'xl-header':
      return { layer: 'xl', offset: i.offset, size: i.length, header: 'xl', mandatoryFlags: i.header.mandatoryFlags, configLen: i.header.config?.length };
    case 'libxl-header':
      return { layer: 'libxl', offset: i.offset, size: i.length, header: 'libxl', version: i.header.version };
    case 'libxc-image-header':
      return { layer: 'libxc', offset: i.offset, size: i.length, header: 'image', version: i.header.version };
    case 'libxc-domain-header':
      return {
        layer: 'libxc',
        offset: i.offset,
        size: i.length,
        header: 'domain',
        domainType: i.header.domainType,
        pageShift: i.header.pageShift,
        xenMajor: i.header.xenMajor,
        xenMinor: i.header.xenMinor,
      };
    case 'trailing':
      return { layer: 'trailing', offset: i.offset, size: i.length };
    case 'container-part':
      return { layer: i.wrapper, offset: i.offset, size: i.length, header: i.part };
    case 'record': {
      const known = !i.record.name.startsWith('RESERVED_') && !i.record.name.startsWith('OPTIONAL_');
      const v: View = {
        layer: i.layer,
        offset: i.offset,
        size: i.length,
        type: i.record.type,
        name: known ? i.record.name : undefined,
        bodyLength: i.bodyLength,
      };
      const b = i.record.body;
      if (b.kind === 'page-data') Object.assign(v, { count: b.count, dataPages: b.pageData.length / 4096 });
      if (b.kind === 'hvm-params') v.count = b.params.length;
      if (b.kind === 'pv-info') Object.assign(v, { guestWidth: b.guestWidth, ptLevels: b.ptLevels });
      if (b.kind === 'vcpu') v.vcpuId = b.vcpuId;
      if (b.kind === 'tsc-info') v.tscKhz = b.khz;
      if (b.kind === 'emulator-context' || b.kind === 'emulator-xenstore') v.emulatorId = b.emulatorId;
      return v;
    }
  }
}
