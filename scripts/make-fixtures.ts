/**
 * Generates the conformance fixtures: fixtures/conformance/*.bin (hand-made
 * edge cases and small synth streams of every mode) and fixtures/MANIFEST.json
 * (which also lists the real Xen 4.17 streams in fixtures/xen-4.17/).
 *
 *   npx tsx scripts/make-fixtures.ts
 *
 * Deterministic: running it again gives the same bytes. Expectations are not
 * just "what the reader says today": record counts of hand-made streams come
 * from their construction, synth counts from the writer, real ones from the
 * notes written when Xen produced them, and the memory digests of hand-made
 * and synth streams are checked against the pages their construction put in.
 * The reader's verdicts are recorded, then reviewed (git diff) like any
 * expected output.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { XL_MIGRATE_GO_MESSAGE, type Dialect } from '../src/format/index.js';
import { encodeXlHeader } from '../src/codec/index.js';
import { readStreamSync, type ReaderOptions } from '../src/reader/index.js';
import { MemorySink, synth, synthFinalPass, synthPageContent, type SynthOptions } from '../src/writer/index.js';
import {
  concat,
  domainHeader,
  emulatorContext,
  hvmContext,
  hvmParams,
  imageHeader,
  libxlHeader,
  minimalXl,
  p2mFrames,
  page,
  pageData,
  pvInfo,
  rawRecord,
  rec,
  sharedInfo,
  tscInfo,
  vcpuBasic,
  xenstoreData,
  xlHeader,
  type Part,
} from '../test/support/build.js';
import {
  FIXTURES_DIR,
  MANIFEST_URL,
  fixtureBytes,
  memoryDigest,
  memoryOf,
  outcomeOf,
  recordCounts,
  sha256,
  type Manifest,
  type ManifestEntry,
  type MemoryDigest,
} from '../test/support/conformance-manifest.js';

const OUT = new URL('conformance/', FIXTURES_DIR);

/** Builds a stream and counts what it puts in, and the memory it implies. */
class Builder {
  readonly parts: Part[] = [];
  readonly counts: Record<string, number> = {};
  /** pfn → [pfn, version] of the page last sent, committed / pending (open checkpoint). */
  private committed = new Map<number, number>();
  private pending = new Map<number, number>();
  constructor(readonly dialect: Dialect = 'upstream') {}
  raw(b: Part): this {
    this.parts.push(b);
    return this;
  }
  count(label: string): void {
    this.counts[label] = (this.counts[label] ?? 0) + 1;
  }
  rec(layer: 'libxl' | 'libxc', name: string, body?: Parameters<typeof rec>[2]): this {
    this.count(`${layer}:${name}`);
    return this.raw(rec(layer, name, body, this.dialect));
  }
  /** A record made by a build.ts helper. */
  add(label: string, b: Part): this {
    this.count(label);
    return this.raw(b);
  }
  pages(pfns: number[], version: number, name = 'PAGE_DATA', types?: number[]): this {
    const t = types ?? pfns.map(() => 0);
    pfns.forEach((p, i) => {
      if (![0xd, 0xe, 0xf].includes(t[i])) this.pending.set(p, version);
    });
    return this.add(`libxc:${name}`, pageData(pfns, version, types, name, this.dialect));
  }
  /** The pages sent so far become the restorable state (end of stream, or a complete checkpoint). */
  commit(): this {
    for (const [p, v] of this.pending) this.committed.set(p, v);
    this.pending.clear();
    return this;
  }
  bytes(): Uint8Array {
    return concat(this.parts);
  }
  memory(): MemoryDigest {
    return memoryDigest(new Map([...this.committed].map(([p, v]) => [p, page(p, v)])));
  }
}

const hvmHeadB = (b: Builder, version = 3) => {
  b.raw(xlHeader()).raw(libxlHeader()).rec('libxl', 'LIBXC_CONTEXT').raw(imageHeader(version)).raw(domainHeader(2));
  if (version === 3) b.rec('libxc', 'STATIC_DATA_END');
  return b;
};
const hvmEndB = (b: Builder) => b.add('libxc:X86_TSC_INFO', tscInfo()).add('libxc:HVM_CONTEXT', hvmContext()).add('libxc:HVM_PARAMS', hvmParams());

interface Spec {
  name: string;
  description: string;
  container: ManifestEntry['container'];
  guest: ManifestEntry['guest'];
  mode: ManifestEntry['mode'];
  options?: ManifestEntry['options'];
  build: () => { bytes: Uint8Array; counts?: Record<string, number>; memory?: MemoryDigest };
}

function plainHvmB(
  extraLibxc: (b: Builder) => void = () => {},
  libxlTail: (b: Builder) => void = (b) => b.add('libxl:EMULATOR_CONTEXT', emulatorContext()),
): Builder {
  const b = hvmHeadB(new Builder());
  b.pages([0, 1, 2, 3], 0);
  extraLibxc(b);
  b.pages([1, 3], 1);
  hvmEndB(b).rec('libxc', 'END');
  libxlTail(b);
  return b.rec('libxl', 'END').commit();
}

function checkpointedB(n: number, colo: boolean, partial: boolean): Builder {
  const b = hvmHeadB(new Builder());
  for (let c = 0; c < n; c++) {
    b.pages(c === 0 ? [0, 1, 2, 3] : [c % 4], c);
    hvmEndB(b).rec('libxc', 'CHECKPOINT').add('libxl:EMULATOR_CONTEXT', emulatorContext()).rec('libxl', 'CHECKPOINT_END').commit();
    if (colo) b.rec('libxl', 'CHECKPOINT_STATE', { kind: 'checkpoint-state', controlId: 0 });
  }
  if (partial) b.pages([2, 3], 99).add('libxc:X86_TSC_INFO', tscInfo());
  return b;
}

function postcopyB(): Builder {
  const b = new Builder('postcopy-rfc');
  b.raw(xlHeader()).raw(libxlHeader()).rec('libxl', 'LIBXC_CONTEXT').raw(imageHeader(2)).raw(domainHeader(2));
  b.pages([0, 1, 4], 0).rec('libxc', 'POSTCOPY_BEGIN');
  hvmEndB(b)
    .rec('libxc', 'POSTCOPY_PFNS_BEGIN')
    .rec('libxc', 'POSTCOPY_PFNS', { kind: 'pfn-list', count: 3, reserved: 0, pfns: [2, 3, 4], types: [0, 0, 0] });
  b.rec('libxc', 'POSTCOPY_TRANSITION').add('libxl:EMULATOR_CONTEXT', emulatorContext()).rec('libxl', 'POSTCOPY_TRANSITION_END');
  b.pages([3, 4], 1, 'POSTCOPY_PAGE_DATA').pages([2], 1, 'POSTCOPY_PAGE_DATA');
  return b.rec('libxc', 'END').rec('libxl', 'END').commit();
}

function pvB(): Builder {
  const b = new Builder();
  b.raw(libxlHeader())
    .rec('libxl', 'LIBXC_CONTEXT')
    .raw(imageHeader(3))
    .raw(domainHeader(1))
    .add('libxc:X86_PV_INFO', pvInfo())
    .rec('libxc', 'STATIC_DATA_END');
  b.add('libxc:X86_PV_P2M_FRAMES', p2mFrames(1023)).pages([0, 1, 2, 5, 6], 0, 'PAGE_DATA', [0, 1, 0xf, 0x9, 0]).pages([1], 1);
  b.add('libxc:X86_TSC_INFO', tscInfo()).add('libxc:SHARED_INFO', sharedInfo()).add('libxc:X86_PV_VCPU_BASIC', vcpuBasic(0)).rec('libxc', 'END');
  return b.rec('libxl', 'END').commit();
}

const HAND_MADE: Spec[] = [
  {
    name: 'minimal-xl-247.bin',
    description: 'The 247-byte minimal xl save file of spec/FORMAT.md §11 (no memory, placeholder emulator blob).',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => ({
      bytes: minimalXl(),
      counts: {
        'libxc:END': 1,
        'libxc:HVM_CONTEXT': 1,
        'libxc:STATIC_DATA_END': 1,
        'libxc:X86_TSC_INFO': 1,
        'libxl:EMULATOR_CONTEXT': 1,
        'libxl:END': 1,
        'libxl:LIBXC_CONTEXT': 1,
      },
    }),
  },
  {
    name: 'hvm-xl-two-passes.bin',
    description: 'Plain HVM xl save file, two PAGE_DATA passes (pfns 1 and 3 re-sent), xenstore data and emulator context.',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => {
      const b = plainHvmB(
        () => {},
        (b) => b.add('libxl:EMULATOR_XENSTORE_DATA', xenstoreData()).add('libxl:EMULATOR_CONTEXT', emulatorContext()),
      );
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'hvm-empty-xenstore.bin',
    description: 'EMULATOR_XENSTORE_DATA with no key/value pairs (body_length 8): accepted by the C reader.',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => {
      const b = plainHvmB(
        () => {},
        (b) => b.add('libxl:EMULATOR_XENSTORE_DATA', xenstoreData([])).add('libxl:EMULATOR_CONTEXT', emulatorContext()),
      );
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'hvm-optional-unknown-libxc.bin',
    description: 'An unknown optional libxc record (type 0x80001234, 5-byte body) between two PAGE_DATA: skipped with a note.',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => {
      const b = plainHvmB((b) => b.add('libxc:OPTIONAL_0x80001234', rawRecord(0x80001234, Uint8Array.of(1, 2, 3, 4, 5))));
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'hvm-trailing-bytes.bin',
    description: '16 non-zero bytes after the final libxl END: an error in strict mode, a warning in lenient mode (xl restore ignores them).',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => {
      const b = plainHvmB();
      b.raw(Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i));
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'hvm-go-message.bin',
    description: 'A capture of an xl migrate wire: the stream followed by the 44-byte go message (a note).',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => {
      const b = plainHvmB();
      b.raw(new Uint8Array(Buffer.from(XL_MIGRATE_GO_MESSAGE, 'latin1')));
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'xl-header-big-endian.bin',
    description:
      'xl header written by a big-endian host (byteorder and config_len big-endian); the libxl stream inside is little-endian. This reader accepts it; xl on x86 would refuse it ("wrong byte order").',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => {
      const b = plainHvmB();
      const bytes = b.bytes();
      const le = xlHeader();
      const be = encodeXlHeader({
        byteOrder: 'big',
        mandatoryFlags: 3,
        optionalFlags: 0,
        config: new Uint8Array(Buffer.from('{}\0', 'latin1')),
        optionalTail: new Uint8Array(0),
      });
      return { bytes: concat([be, bytes.subarray(le.length)]), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'libxl-big-endian-flag.bin',
    description: 'libxl header options bit 0 (big-endian stream) set: refused, as Xen does.',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => {
      const b = plainHvmB();
      const bytes = b.bytes();
      bytes[xlHeader().length + 15] = 1;
      return { bytes };
    },
  },
  {
    name: 'pv-libxl.bin',
    description: 'Plain 64-bit PV libxl stream (no xl header): P2M frames, L1/L1-pinned/XTAB page types, a second pass, SHARED_INFO, vCPU 0.',
    container: 'libxl',
    guest: 'pv',
    mode: 'plain',
    build: () => {
      const b = pvB();
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'libxc-bare-hvm.bin',
    description: 'A bare libxc stream (what verify-stream-v2 -f libxc reads).',
    container: 'libxc',
    guest: 'hvm',
    mode: 'plain',
    build: () => {
      const b = new Builder();
      b.raw(imageHeader(3)).raw(domainHeader(2)).rec('libxc', 'STATIC_DATA_END').pages([0, 7], 0);
      hvmEndB(b).rec('libxc', 'END').commit();
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'remus-3-checkpoints.bin',
    description: 'Remus stream with 3 complete checkpoints, ending by failover right after the third (no END in either layer).',
    container: 'xl',
    guest: 'hvm',
    mode: 'remus',
    options: { mode: 'remus' },
    build: () => {
      const b = checkpointedB(3, false, false);
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'remus-failover-partial.bin',
    description: 'Remus stream: 2 complete checkpoints then a partial third (PAGE_DATA + TSC): failover to checkpoint 2, the partial one discarded (a note).',
    container: 'xl',
    guest: 'hvm',
    mode: 'remus',
    options: { mode: 'remus' },
    build: () => {
      const b = checkpointedB(2, false, true);
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'colo-2-checkpoints.bin',
    description: 'COLO stream: 2 checkpoints, each followed by CHECKPOINT_STATE(NEW); ends after the last CHECKPOINT_STATE.',
    container: 'xl',
    guest: 'hvm',
    mode: 'colo',
    options: { mode: 'colo' },
    build: () => {
      const b = checkpointedB(2, true, false);
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'postcopy-rfc.bin',
    description:
      'Postcopy RFC stream (v2 image): precopy pages, POSTCOPY_BEGIN, CPU context, POSTCOPY_PFNS, transition, POSTCOPY_PAGE_DATA, END. Needs dialect postcopy-rfc.',
    container: 'xl',
    guest: 'hvm',
    mode: 'postcopy-rfc',
    options: { dialect: 'postcopy-rfc' },
    build: () => {
      const b = postcopyB();
      return { bytes: b.bytes(), counts: b.counts, memory: b.memory() };
    },
  },
  {
    name: 'postcopy-rfc-read-as-upstream.bin',
    description: 'The postcopy RFC stream read without the dialect option: refused with STREAM-DIALECT naming the dialect.',
    container: 'xl',
    guest: 'hvm',
    mode: 'postcopy-rfc',
    build: () => ({ bytes: postcopyB().bytes() }),
  },
  {
    name: 'invalid-truncated.bin',
    description: 'The §11 example cut at byte 200 (inside the HVM_CONTEXT record).',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => ({ bytes: minimalXl().subarray(0, 200) }),
  },
  {
    name: 'invalid-page-data-length.bin',
    description: 'PAGE_DATA claiming two NOTAB pages but carrying one.',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => {
      const b = hvmHeadB(new Builder());
      const good = pageData([0, 1], 0);
      const body = good.subarray(8, 8 + 24 + 4096);
      b.raw(rawRecord(1, body));
      hvmEndB(b).rec('libxc', 'END').add('libxl:EMULATOR_CONTEXT', emulatorContext()).rec('libxl', 'END');
      return { bytes: b.bytes() };
    },
  },
  {
    name: 'invalid-unknown-mandatory.bin',
    description: 'Unknown mandatory libxc record type 0x7fff0000.',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => ({ bytes: plainHvmB((b) => b.raw(rawRecord(0x7fff0000, Uint8Array.of(1, 2, 3, 4)))).bytes() }),
  },
  {
    name: 'invalid-duplicate-static-data-end.bin',
    description: 'A second STATIC_DATA_END after PAGE_DATA.',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => ({ bytes: plainHvmB((b) => b.rec('libxc', 'STATIC_DATA_END')).bytes() }),
  },
  {
    name: 'invalid-end-in-middle.bin',
    description: 'libxc END right after STATIC_DATA_END: the PAGE_DATA that follows lands in the libxl layer (type 1 = LIBXC_CONTEXT a second time).',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => {
      const b = hvmHeadB(new Builder()).rec('libxc', 'END').pages([0], 0);
      return { bytes: b.rec('libxc', 'END').rec('libxl', 'END').bytes() };
    },
  },
  {
    name: 'invalid-record-too-long.bin',
    description: 'A PAGE_DATA header claiming a 2 GiB body: refused before reading (or allocating) it.',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    build: () => ({ bytes: concat([...hvmHeadB(new Builder()).parts, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0x80), new Uint8Array(64)]) }),
  },
  {
    name: 'invalid-emulator-in-pv.bin',
    description: 'EMULATOR_CONTEXT in an x86 PV stream.',
    container: 'libxl',
    guest: 'pv',
    mode: 'plain',
    build: () => {
      const b = pvB();
      const bytes = b.bytes();
      return { bytes: concat([bytes.subarray(0, bytes.length - 8), emulatorContext(), rec('libxl', 'END')]) };
    },
  },
];

const SYNTH: Array<{
  name: string;
  description: string;
  container: ManifestEntry['container'];
  guest: ManifestEntry['guest'];
  mode: ManifestEntry['mode'];
  options?: ManifestEntry['options'];
  synth: SynthOptions;
}> = [
  {
    name: 'synth-pv.bin',
    description: 'synth: plain PV, 24 pages, 2 passes',
    container: 'libxl',
    guest: 'pv',
    mode: 'plain',
    synth: { kind: 'pv', pages: 24, passes: 2, batch: 8, seed: 1 },
  },
  {
    name: 'synth-hvm-xl.bin',
    description: 'synth: plain HVM in an xl save file, 24 pages, 2 passes',
    container: 'xl',
    guest: 'hvm',
    mode: 'plain',
    synth: { kind: 'hvm', pages: 24, passes: 2, batch: 8, xl: true, seed: 2 },
  },
  {
    name: 'synth-pvh.bin',
    description: 'synth: plain PVH, 16 pages',
    container: 'libxl',
    guest: 'pvh',
    mode: 'plain',
    synth: { kind: 'pvh', pages: 16, batch: 16, seed: 3 },
  },
  {
    name: 'synth-remus.bin',
    description: 'synth: Remus HVM, 3 checkpoints',
    container: 'libxl',
    guest: 'hvm',
    mode: 'remus',
    options: { mode: 'remus' },
    synth: { kind: 'hvm', pages: 16, checkpoints: 3, batch: 8, seed: 4 },
  },
  {
    name: 'synth-colo.bin',
    description: 'synth: COLO HVM, 2 checkpoints',
    container: 'libxl',
    guest: 'hvm',
    mode: 'colo',
    options: { mode: 'colo' },
    synth: { kind: 'hvm', pages: 16, checkpoints: 2, colo: true, batch: 8, seed: 5 },
  },
  {
    name: 'synth-postcopy.bin',
    description: 'synth: postcopy RFC HVM, 16 pages',
    container: 'libxl',
    guest: 'hvm',
    mode: 'postcopy-rfc',
    options: { dialect: 'postcopy-rfc' },
    synth: { kind: 'hvm', pages: 16, postcopy: true, batch: 8, seed: 6 },
  },
];

const REAL = [
  { name: 'hvm128-save', guest: 'hvm' as const },
  { name: 'pv128-save', guest: 'pv' as const },
  { name: 'pvh128-save', guest: 'pvh' as const },
];

function opts(o: ManifestEntry['options'] = {}): ReaderOptions {
  return { ...o };
}

function entryFor(
  file: string,
  base: Omit<ManifestEntry, 'file' | 'bytes' | 'sha256' | 'strict' | 'lenient'>,
  bytes: Uint8Array,
  expect: { counts?: Record<string, number>; memory?: MemoryDigest },
): ManifestEntry {
  const strict = outcomeOf(bytes, { ...opts(base.options), strict: true });
  const lenient = outcomeOf(bytes, { ...opts(base.options), strict: false });
  const e: ManifestEntry = { file, ...base, bytes: bytes.length, sha256: sha256(bytes), strict, lenient };
  if (lenient.verdict === 'valid') {
    const r = readStreamSync(bytes, { ...opts(base.options), strict: false }).readAll();
    const counts = recordCounts(r.items);
    if (expect.counts && JSON.stringify(sortKeys(expect.counts)) !== JSON.stringify(counts)) {
      throw new Error(`${file}: the reader counts ${JSON.stringify(counts)}, the construction ${JSON.stringify(sortKeys(expect.counts))}`);
    }
    e.records = expect.counts ? sortKeys(expect.counts) : counts;
    const mem = memoryDigest(memoryOf(r.items, r.end));
    if (expect.memory && expect.memory.pagesSha256 !== mem.pagesSha256) throw new Error(`${file}: memory digest of the reader ≠ construction`);
    if (mem.pages > 0) e.memory = mem;
  }
  return e;
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function parseNote(text: string): { counts: Record<string, number>; sha: string; size: number } {
  const line = (p: string) => (text.split('\n').find((l) => l.startsWith(p)) ?? '').slice(p.length).trim();
  const counts: Record<string, number> = {};
  for (const kv of line('record counts:').split(',')) {
    const [k, v] = kv.trim().split('=');
    counts[k] = Number(v);
  }
  return { counts: sortKeys(counts), sha: line('sha256 (uncompressed):'), size: Number(line('uncompressed size:').split(' ')[0]) };
}

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const fixtures: ManifestEntry[] = [];

  for (const r of REAL) {
    const note = parseNote(readFileSync(new URL(`xen-4.17/${r.name}.txt`, FIXTURES_DIR), 'utf8'));
    const file = `xen-4.17/${r.name}.bin.gz`;
    const bytes = fixtureBytes({ file, gzip: true });
    if (sha256(bytes) !== note.sha || bytes.length !== note.size) throw new Error(`${file}: does not match its note`);
    const e = entryFor(
      file,
      {
        made: `real Xen 4.17.5 'xl save' of a 128 MiB ${r.guest.toUpperCase()} guest (see xen-4.17/${r.name}.txt)`,
        origin: 'xen',
        description: `Real Xen 4.17 save file; Xen's own verify-stream-v2 accepts it and 'xl restore' restored it.`,
        gzip: true,
        container: 'xl',
        guest: r.guest,
        mode: 'plain',
        dialect: 'upstream',
        options: {},
      },
      bytes,
      { counts: note.counts },
    );
    e.gzSha256 = sha256(readFileSync(new URL(file, FIXTURES_DIR)));
    fixtures.push(e);
  }

  for (const s of HAND_MADE) {
    const built = s.build();
    writeFileSync(new URL(s.name, OUT), built.bytes);
    fixtures.push(
      entryFor(
        `conformance/${s.name}`,
        {
          made: 'hand-made by scripts/make-fixtures.ts from test/support/build.ts',
          origin: 'hand-made',
          description: s.description,
          container: s.container,
          guest: s.guest,
          mode: s.mode,
          dialect: s.options?.dialect ?? 'upstream',
          options: s.options ?? {},
        },
        built.bytes,
        built,
      ),
    );
  }

  for (const s of SYNTH) {
    const sink = new MemorySink({ copy: true });
    const res = await synth(sink, s.synth);
    const bytes = concat([...sink.chunks]);
    writeFileSync(new URL(s.name, OUT), bytes);
    // The memory synth's own page functions say the destination must end with.
    const mem = new Map<number, Uint8Array>();
    for (let pfn = 0; pfn < s.synth.pages; pfn++) {
      const pass = synthFinalPass(s.synth, pfn);
      if (pass !== undefined) mem.set(pfn, synthPageContent((s.synth.seed ?? 1) >>> 0, pfn, pass));
    }
    fixtures.push(
      entryFor(
        `conformance/${s.name}`,
        {
          made: `synth ${JSON.stringify(s.synth)} (src/writer/synth.ts; stream-inspect synth)`,
          origin: 'synth',
          description: s.description,
          container: s.container,
          guest: s.guest,
          mode: s.mode,
          dialect: s.options?.dialect ?? 'upstream',
          options: s.options ?? {},
        },
        bytes,
        { counts: res.records, memory: memoryDigest(mem) },
      ),
    );
  }

  const manifest: Manifest = {
    format: 'xen-migration-stream-fixtures/1',
    description: 'Conformance fixtures for Xen migration streams: see spec/README-conformance.md. Generated by scripts/make-fixtures.ts.',
    fixtures,
  };
  writeFileSync(MANIFEST_URL, `${JSON.stringify(manifest, null, 2)}\n`);
  const total = fixtures.filter((f) => f.origin !== 'xen').reduce((n, f) => n + f.bytes, 0);
  console.log(`${fixtures.length} fixtures (${total} bytes besides the real ones) → ${fileURLToPath(MANIFEST_URL)}`);
  void createHash;
}

await main();
