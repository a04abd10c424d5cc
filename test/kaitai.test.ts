/**
 * The Kaitai Struct description (spec/xen-migration-stream.ksy) as a second,
 * independent implementation: compiled at test time and checked against the
 * worked example of spec/FORMAT.md §11 and the real Xen 4.17 streams.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { MINIMAL_XL_HEX } from './support/build.js';
import { compileKsy, kaitaiWalk, kaitaiWalkSync, parseYamlSubset, type KaitaiRecord } from './support/kaitai.js';

// spec/FORMAT.md §11: minimal xl save file (x86 HVM), 247 bytes.
const WORKED_EXAMPLE_HEX = MINIMAL_XL_HEX;
const WORKED_EXAMPLE_SHA256 = '5d5ab05ba33ade4baee3ebe609d3d7f789a3776e5841351d99a2845dbc52be8b';

function workedExample(): Uint8Array {
  return new Uint8Array(Buffer.from(WORKED_EXAMPLE_HEX, 'hex'));
}

function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function u32le(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return new Uint8Array(b);
}

/** Record header + body + zero padding to 8 (spec/FORMAT.md §4.2). */
function record(type: number, body: Uint8Array): Uint8Array {
  const pad = (8 - (body.length % 8)) % 8;
  return concat(u32le(type), u32le(body.length), body, new Uint8Array(pad));
}

/** Every item starts where the previous one ended; returns the end offset. */
function expectContiguous(items: KaitaiRecord[], start: number): number {
  let at = start;
  for (const it of items) {
    expect(it.offset, `${it.layer} ${it.kind} ${it.typeName ?? it.header ?? ''}`).toBe(at);
    at += it.size;
  }
  return at;
}

// A bare libxc v3 HVM stream prefix: image header + domain header (from §11).
const LIBXC_HEADERS = hex('ffffffffffffffff 58454e46 00000003 0000 0000 00000000' + '02000000 0c00 0000 04000000 13000000');

// Compile once up front, so that a broken .ksy fails every test instead of
// satisfying the `rejects` assertions below.
beforeAll(async () => {
  await compileKsy();
});

describe('kaitai: the .ksy file', () => {
  it('loads with the YAML subset loader and compiles to JavaScript', async () => {
    const ksy = parseYamlSubset(readFileSync(new URL('../spec/xen-migration-stream.ksy', import.meta.url), 'utf8'));
    expect(ksy).toMatchObject({ meta: { id: 'xen_migration_stream', endian: 'le' } });
    const c = await compileKsy();
    expect(Object.keys(c.files)).toEqual(['XenMigrationStream.js']);
    expect(c.compilerVersion).toMatch(/^0\.11/);
  });

  it('compiles for other Kaitai target languages too', async () => {
    const ksy = parseYamlSubset(readFileSync(new URL('../spec/xen-migration-stream.ksy', import.meta.url), 'utf8'));
    const { createRequire } = await import('node:module');
    const compiler = createRequire(import.meta.url)('kaitai-struct-compiler') as {
      compile(lang: string, ksy: unknown, importer: unknown, debug: boolean): Promise<Record<string, string>>;
    };
    // Not nim: its 0.11 backend has no `valid: expr` yet (NotImplementedError).
    for (const lang of ['construct', 'cpp_stl', 'csharp', 'go', 'graphviz', 'html', 'java', 'lua', 'perl', 'php', 'python', 'ruby', 'rust']) {
      const files = await compiler.compile(lang, ksy, null, false);
      expect(Object.keys(files).length, lang).toBeGreaterThan(0);
    }
  });

  it('YAML subset loader: quoting, flow sequences, literal blocks, hex keys', () => {
    const y = parseYamlSubset(
      [
        'a: 1 # comment',
        'b: "x, y # not a comment"',
        "c: ['q, r', 0x0a, plain]",
        'd:',
        '  - id: e',
        '    v: (x & 1) != 0',
        '  - f',
        'g: |',
        '  line 1',
        '',
        '  line 2',
        'h:',
        '  0x10: sixteen',
        "i: 'it''s'",
      ].join('\n'),
    );
    expect(y).toEqual({
      a: 1,
      b: 'x, y # not a comment',
      c: ['q, r', 10, 'plain'],
      d: [{ id: 'e', v: '(x & 1) != 0' }, 'f'],
      g: 'line 1\n\nline 2\n',
      h: { '16': 'sixteen' },
      i: "it's",
    });
    expect(() => parseYamlSubset('a: 1\na: 2')).toThrow(/duplicate key/);
    expect(() => parseYamlSubset('a: {b: 1}')).toThrow(/subset/);
  });
});

describe('kaitai: spec/FORMAT.md §11 worked example', () => {
  it('is the documented 247 bytes', () => {
    const b = workedExample();
    expect(b.length).toBe(247);
    expect(createHash('sha256').update(b).digest('hex')).toBe(WORKED_EXAMPLE_SHA256);
  });

  it('walks every header and record with the offsets, types and lengths of the §11 table', async () => {
    const items = await kaitaiWalk(workedExample());
    const summary = items.map((i) => [i.layer, i.kind === 'header' ? `hdr:${i.header}` : i.typeName, i.offset, i.bodyLength]);
    expect(summary).toEqual([
      ['xl', 'hdr:xl', 0x00, undefined],
      ['libxl', 'hdr:libxl', 0x37, undefined],
      ['libxl', 'LIBXC_CONTEXT', 0x47, 0],
      ['libxc', 'hdr:image', 0x4f, undefined],
      ['libxc', 'hdr:domain', 0x67, undefined],
      ['libxc', 'STATIC_DATA_END', 0x77, 0],
      ['libxc', 'X86_TSC_INFO', 0x7f, 24],
      ['libxc', 'HVM_CONTEXT', 0x9f, 40],
      ['libxc', 'END', 0xcf, 0],
      ['libxl', 'EMULATOR_CONTEXT', 0xd7, 12],
      ['libxl', 'END', 0xef, 0],
    ]);
    expect(expectContiguous(items, 0)).toBe(247);
    expect(kaitaiWalkSync(workedExample())).toEqual(items);
    expect(items.map((i) => i.type)).toEqual([undefined, undefined, 1, undefined, undefined, 0x10, 0x08, 0x09, 0x00, 3, 0]);

    const [xl, libxl, , image, domain, , tsc, hvmctx, , emu] = items;
    expect(xl).toMatchObject({ mandatoryFlags: 3, optionalFlags: 0, optionalDataLen: 7, configLen: 3, size: 55 });
    expect(libxl).toMatchObject({ version: 2, options: 0, size: 16 });
    expect(image).toMatchObject({ version: 3, options: 0, size: 24 });
    expect(domain).toMatchObject({ domainType: 2, pageShift: 12, xenMajor: 4, xenMinor: 19, size: 16 });
    expect(tsc).toMatchObject({ tscMode: 0, tscKhz: 2_000_000, size: 32 });
    expect(hvmctx).toMatchObject({ count: 2, size: 48 }); // HEADER entry + END entry
    expect(emu).toMatchObject({ emulatorId: 2, emulatorIndex: 0, size: 24, paddingNonZero: false });
  });

  it('exposes the config text and the HVM save entries in the parse tree', async () => {
    const { root, KaitaiStream } = await compileKsy();
    const top = new root(new KaitaiStream(workedExample())) as {
      stream: { header: { optionalData: { config: string } }; libxl: { records: { libxc?: { records: { body: unknown }[] } }[] } };
    };
    expect(top.stream.header.optionalData.config).toBe('{}');
    const hvm = top.stream.libxl.records[0].libxc?.records[2].body as { entries: { typecode: number; length: number }[] };
    expect(hvm.entries.map((e) => [e.typecode, e.length])).toEqual([
      [1, 24],
      [0, 0],
    ]);
  });

  it('accepts the bare libxl and bare libxc forms of the same stream', async () => {
    const full = workedExample();
    const all = await kaitaiWalk(full);

    const libxl = await kaitaiWalk(full.subarray(0x37));
    expect(libxl.map((i) => ({ ...i, offset: i.offset + 0x37 }))).toEqual(all.slice(1));

    const libxc = await kaitaiWalk(full.subarray(0x4f, 0xd7));
    expect(libxc.map((i) => ({ ...i, offset: i.offset + 0x4f }))).toEqual(all.slice(3, 9));
  });

  it('rejects corrupted headers', async () => {
    const bad = (at: number, v: number): Uint8Array => {
      const b = workedExample();
      b[at] = v;
      return b;
    };
    await expect(kaitaiWalk(bad(0x1d, 0x01))).rejects.toThrow(); // NUL inside the xl magic
    await expect(kaitaiWalk(bad(0x20, 0x05))).rejects.toThrow(); // byteorder
    await expect(kaitaiWalk(bad(0x42, 0x03))).rejects.toThrow(); // libxl version 3
    await expect(kaitaiWalk(bad(0x57, 0x59))).rejects.toThrow(); // "YENF"
    await expect(kaitaiWalk(bad(0x5e, 0x04))).rejects.toThrow(); // libxc version 4
    await expect(kaitaiWalk(workedExample().subarray(0, 0xef))).resolves.toHaveLength(10); // clean EOF before libxl END
    await expect(kaitaiWalk(workedExample().subarray(0, 0xf0))).rejects.toThrow(); // torn record
  });

  it('reports non-zero padding without rejecting it', async () => {
    const b = workedExample();
    b[0xeb] = 0x7f; // first padding byte of EMULATOR_CONTEXT
    const items = await kaitaiWalk(b);
    expect(items[9]).toMatchObject({ typeName: 'EMULATOR_CONTEXT', paddingNonZero: true });
  });
});

describe('kaitai: record bodies', () => {
  // spec/FORMAT.md §5.5 example: pfn 0x100 NOTAB, 0x101 XTAB, 0x102 L1TAB|LPINTAB; C = 3, N = 2.
  const pfnArray = hex('03000000 00000000 0001000000000000 01010000000000f0 0201000000000090');

  it('PAGE_DATA: page count from the type nibbles, pages skipped by size', async () => {
    const page = new Uint8Array(4096 * 2).fill(0xcc);
    const body = concat(pfnArray, page);
    expect(body.length).toBe(0x2020);
    const stream = concat(LIBXC_HEADERS, record(0x01, body), record(0x00, new Uint8Array(0)));
    const items = await kaitaiWalk(stream);
    expect(items[2]).toMatchObject({ typeName: 'PAGE_DATA', bodyLength: 0x2020, count: 3, dataPages: 2, offset: 40 });
    expect(expectContiguous(items, 0)).toBe(stream.length);

    const { root, KaitaiStream } = await compileKsy();
    const top = new root(new KaitaiStream(stream)) as {
      stream: { records: { body: { pfns: { pfn: number; pageType: number; hasData: boolean; reservedBits: number }[] } }[] };
    };
    expect(top.stream.records[0].body.pfns.map((p) => [p.pfn, p.pageType, p.hasData, p.reservedBits])).toEqual([
      [0x100, 0x0, true, 0],
      [0x101, 0xf, false, 0],
      [0x102, 0x9, true, 0],
    ]);
  });

  it('PAGE_DATA: a body length that disagrees with the data-bearing entries is rejected', async () => {
    const short = concat(pfnArray, new Uint8Array(4096)); // one page missing
    await expect(kaitaiWalk(concat(LIBXC_HEADERS, record(0x01, short), record(0, new Uint8Array(0))))).rejects.toThrow();
    const long = concat(pfnArray, new Uint8Array(4096 * 3)); // one page too many
    await expect(kaitaiWalk(concat(LIBXC_HEADERS, record(0x01, long), record(0, new Uint8Array(0))))).rejects.toThrow();
  });

  it('PAGE_DATA: 52-bit PFNs and the reserved bits survive', async () => {
    // u64 0xFAB_FFFFFFFFFFFFF: type XTAB, reserved bits 0xAB, pfn 0xF_FFFF_FFFF_FFFF (no page data).
    const fixed = hex('01000000 00000000 ffffffff ffffbffa');
    const stream = concat(LIBXC_HEADERS, record(0x01, fixed), record(0, new Uint8Array(0)));
    const { root, KaitaiStream } = await compileKsy();
    const top = new root(new KaitaiStream(stream)) as {
      stream: { records: { body: { pfns: { pfn: number; pageType: number; reservedBits: number }[] } }[] };
    };
    const [p] = top.stream.records[0].body.pfns;
    expect(p.pageType).toBe(0xf);
    expect(p.reservedBits).toBe(0xab);
    expect(p.pfn).toBe(0xf_ffff_ffff_ffff);
  });

  it('libxl EMULATOR_XENSTORE_DATA, CHECKPOINT_STATE and unknown records', async () => {
    const xs = concat(hex('02000000 00000000'), new Uint8Array(Buffer.from('physmap/f0000000/start_addr\0f0000000\0', 'latin1')));
    expect(xs.length).toBe(0x2d); // spec/FORMAT.md §11 snippet
    const stream = concat(
      hex('4c6962786c466d74 00000002 00000000'),
      record(2, xs),
      record(5, u32le(2)),
      record(0x80000001, hex('010203')),
      record(0, new Uint8Array(0)),
    );
    const items = await kaitaiWalk(stream);
    expect(items.map((i) => [i.typeName ?? i.type ?? i.header, i.bodyLength, i.size])).toEqual([
      ['libxl', undefined, 16],
      ['EMULATOR_XENSTORE_DATA', xs.length, 8 + xs.length + ((8 - (xs.length % 8)) % 8)],
      ['CHECKPOINT_STATE', 4, 16],
      [0x80000001, 3, 16],
      ['END', 0, 8],
    ]);
    expect(items[1]).toMatchObject({ emulatorId: 2, emulatorIndex: 0 });
    expect(items[2]).toMatchObject({ controlId: 2 });
    expect(expectContiguous(items, 0)).toBe(stream.length);
  });

  it('libxc PV records: X86_PV_INFO, P2M frames, vCPU, HVM_PARAMS, policies', async () => {
    const stream = concat(
      LIBXC_HEADERS,
      record(0x02, hex('0804000000000000')),
      record(0x11, new Uint8Array(48)),
      record(0x12, new Uint8Array(16)),
      record(0x03, concat(u32le(0), u32le(511), new Uint8Array(8))),
      record(0x04, concat(u32le(1), u32le(0), new Uint8Array(5168))),
      record(0x0a, hex('02000000 00000000 0100000000000000 fcef0f0000000000 1100000000000000 ffef0f0000000000')),
      record(0x06, concat(u32le(0), u32le(0), new Uint8Array(20))), // padded: 28 -> 32
      record(0x00, new Uint8Array(0)),
    );
    const items = await kaitaiWalk(stream);
    expect(items.slice(2).map((i) => [i.typeName, i.size])).toEqual([
      ['X86_PV_INFO', 16],
      ['X86_CPUID_POLICY', 56],
      ['X86_MSR_POLICY', 24],
      ['X86_PV_P2M_FRAMES', 24],
      ['X86_PV_VCPU_BASIC', 8 + 8 + 5168],
      ['HVM_PARAMS', 48],
      ['X86_PV_VCPU_XSAVE', 40],
      ['END', 8],
    ]);
    expect(items[2]).toMatchObject({ guestWidth: 8, ptLevels: 4 });
    expect(items[3]).toMatchObject({ count: 2 });
    expect(items[4]).toMatchObject({ count: 1 });
    expect(items[6]).toMatchObject({ vcpuId: 1 });
    expect(items[7]).toMatchObject({ count: 2 });
    expect(expectContiguous(items, 0)).toBe(stream.length);
  });
});

// ---------------------------------------------------------------------------
// Real Xen 4.17 streams
// ---------------------------------------------------------------------------

const FIXTURE_DIRS = [new URL('../fixtures/xen-4.17/', import.meta.url)];

function fixturePath(name: string): string {
  for (const dir of FIXTURE_DIRS) {
    const u = new URL(name, dir);
    if (existsSync(u)) return fileURLToPath(u);
  }
  throw new Error(`fixture ${name} not found in ${FIXTURE_DIRS.map((d) => fileURLToPath(d)).join(' or ')}`);
}

interface FixtureNote {
  sequence: { name: string; times: number }[];
  counts: Map<string, number>;
  size: number;
  libxlHeaderAt: number;
  libxcHeaderAt: number;
  pfnEntries: number;
}

function line(text: string, prefix: string): string {
  const l = text.split('\n').find((s) => s.startsWith(prefix));
  if (l === undefined) throw new Error(`note has no "${prefix}" line`);
  return l.slice(prefix.length).trim();
}

function parseNote(text: string): FixtureNote {
  const sequence = line(text, 'record sequence:')
    .split(',')
    .map((s) => {
      const m = /^(\S+?)(?: x(\d+))?$/.exec(s.trim());
      if (m === null) throw new Error(`bad sequence item ${s}`);
      return { name: m[1], times: m[2] === undefined ? 1 : Number(m[2]) };
    });
  const counts = new Map<string, number>();
  for (const item of line(text, 'record counts:').split(',')) {
    const [k, v] = item.trim().split('=');
    counts.set(k, Number(v));
  }
  return {
    sequence,
    counts,
    size: Number(line(text, 'uncompressed size:').split(' ')[0]),
    libxlHeaderAt: Number(/@(\d+)/.exec(line(text, 'libxl header'))?.[1]),
    libxcHeaderAt: Number(/@(\d+)/.exec(line(text, 'libxc image header'))?.[1]),
    pfnEntries: Number(line(text, 'PAGE_DATA pfn entries in total:')),
  };
}

/** Run-length encodes `layer:NAME` of the records, like the notes do. */
function runs(items: KaitaiRecord[]): { name: string; times: number }[] {
  const out: { name: string; times: number }[] = [];
  for (const i of items) {
    if (i.kind !== 'record') continue;
    const name = `${i.layer}:${i.typeName ?? `0x${(i.type ?? 0).toString(16)}`}`;
    const last = out[out.length - 1];
    if (last !== undefined && last.name === name) last.times++;
    else out.push({ name, times: 1 });
  }
  return out;
}

describe('kaitai: real Xen 4.17 streams', () => {
  it('parses the note format it relies on', () => {
    const n = parseNote(
      'uncompressed size: 10 bytes\nlibxl header @5: x\nlibxc image header @9: y\nPAGE_DATA pfn entries in total: 7\n' +
        'record sequence: libxl:A, libxc:B x3, libxl:END\nrecord counts: libxl:A=1, libxc:B=3, libxl:END=1\n',
    );
    expect(n.sequence).toEqual([
      { name: 'libxl:A', times: 1 },
      { name: 'libxc:B', times: 3 },
      { name: 'libxl:END', times: 1 },
    ]);
    expect([...n.counts]).toEqual([
      ['libxl:A', 1],
      ['libxc:B', 3],
      ['libxl:END', 1],
    ]);
    expect([n.size, n.libxlHeaderAt, n.libxcHeaderAt, n.pfnEntries]).toEqual([10, 5, 9, 7]);
  });

  for (const name of ['pv128-save', 'pvh128-save', 'hvm128-save']) {
    it(`${name}: record sequence and counts match the note`, async () => {
      const note = parseNote(readFileSync(fixturePath(`${name}.txt`), 'utf8'));
      const bytes = new Uint8Array(gunzipSync(readFileSync(fixturePath(`${name}.bin.gz`))));
      expect(bytes.length).toBe(note.size);

      const t0 = performance.now();
      const items = await kaitaiWalk(bytes);
      const ms = performance.now() - t0;
      // Informational only (never asserted): how long Kaitai takes on ~140 MB.
      console.log(`kaitai ${name}: ${items.length} items, ${(bytes.length / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms`);

      expect(runs(items)).toEqual(note.sequence);
      const counts = new Map<string, number>();
      for (const i of items) {
        if (i.kind !== 'record') continue;
        const k = `${i.layer}:${i.typeName ?? i.type}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      expect(Object.fromEntries([...counts].sort())).toEqual(Object.fromEntries([...note.counts].sort()));

      const libxlHdr = items.find((i) => i.header === 'libxl');
      const imageHdr = items.find((i) => i.header === 'image');
      expect(libxlHdr?.offset).toBe(note.libxlHeaderAt);
      expect(imageHdr?.offset).toBe(note.libxcHeaderAt);
      expect(expectContiguous(items, 0)).toBe(bytes.length);
      expect(items.filter((i) => i.paddingNonZero === true)).toEqual([]); // writers pad with zeros

      const pages = items.filter((i) => i.typeName === 'PAGE_DATA' && i.layer === 'libxc');
      expect(pages.reduce((s, i) => s + (i.count ?? 0), 0)).toBe(note.pfnEntries);
      for (const p of pages) expect(p.bodyLength).toBe(8 + 8 * (p.count ?? 0) + 4096 * (p.dataPages ?? 0));
    }, 120_000);
  }
});
