/**
 * Property-based fuzzing (fast-check):
 *  - random valid streams (random record sequences from test/support/build.ts,
 *    and synth streams with random options) decode and re-encode exactly, and
 *    survive the JSON document round trip byte for byte;
 *  - random byte mutations, truncations and splices of valid streams never
 *    crash the reader: it throws StreamFormatError or reaches a valid end, in
 *    one piece (readStreamSync) and in random chunks (PushDecoder).
 *
 * `npm test` runs a short pass (FUZZ_RUNS unset: 60 runs per property, fixed seed);
 * `npm run fuzz` sets FUZZ_RUNS=20000 (random seeds; FUZZ_SEED=… to replay).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeDocumentChunks, encodeItemChunks, itemToJson, parseStreamDocument, StreamFormatError } from '../../src/codec/index.js';
import type { Dialect } from '../../src/format/index.js';
import { PushDecoder, readStreamSync, type ReaderOptions, type StreamEnd, type StreamItem } from '../../src/reader/index.js';
import { MemorySink, synth, type SynthOptions } from '../../src/writer/index.js';
import {
  checkpointed,
  concat,
  domainHeader,
  emulatorContext,
  hvmContext,
  hvmParams,
  imageHeader,
  libxlHeader,
  minimalXl,
  p2mFrames,
  pageData,
  plainHvm,
  plainPv,
  postcopy,
  pvInfo,
  rawRecord,
  rec,
  sharedInfo,
  tscInfo,
  vcpuBasic,
  xenstoreData,
  xlHeader,
  type Part,
} from '../support/build.js';
import { toEncodable } from '../support/conformance-manifest.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
// The short run in `npm test` is deterministic (a fixed seed, so it cannot flake); `npm run fuzz` explores new
// seeds each time unless FUZZ_SEED is given. fast-check prints the seed and path of any counterexample.
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RUNS === undefined ? 20261123 : undefined;
const params = (scale = 1): fc.Parameters<unknown> => ({ numRuns: Math.max(1, Math.round(RUNS * scale)), ...(SEED === undefined ? {} : { seed: SEED }) });

/** Re-encode every item and compare with the input; same through a JSON document. */
function roundTrips(bytes: Uint8Array, items: StreamItem[], dialect: Dialect): void {
  const covered = items.reduce((n, i) => n + i.length, 0);
  const enc = Buffer.concat(items.flatMap((i) => encodeItemChunks(toEncodable(i, bytes), dialect)));
  expect(Buffer.compare(enc, Buffer.from(bytes.buffer, bytes.byteOffset, covered))).toBe(0);
  const doc = { format: 'xen-migration-stream/1', dialect, items: items.map((i) => itemToJson(toEncodable(i, bytes), dialect)) };
  const back = Buffer.concat(encodeDocumentChunks(parseStreamDocument(JSON.parse(JSON.stringify(doc)))));
  expect(Buffer.compare(back, Buffer.from(bytes.buffer, bytes.byteOffset, covered))).toBe(0);
}

// ------------------------------------------------------------ random valid streams

const pfnEntry = fc.record({ pfn: fc.integer({ min: 0, max: 1023 }), type: fc.constantFrom(0, 0, 0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 14, 15) });
const pageRecord = fc.array(pfnEntry, { minLength: 1, maxLength: 4 }).chain((es) =>
  fc.integer({ min: 0, max: 255 }).map((v) =>
    pageData(
      es.map((e) => e.pfn),
      v,
      es.map((e) => e.type),
    ),
  ),
);
const xsString = fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), minLength: 0, maxLength: 12 });
const xsPair = fc.tuple(
  xsString.filter((k) => k.length > 0 && !k.startsWith('/')),
  xsString,
) as fc.Arbitrary<[string, string]>;
const blob = (max: number) => fc.uint8Array({ minLength: 1, maxLength: max });

/** A random plain HVM or PV stream, any container, random records where the format allows. */
const validStream: fc.Arbitrary<{ bytes: Uint8Array; opts: ReaderOptions }> = fc
  .record({
    hvm: fc.boolean(),
    container: fc.constantFrom('xl', 'libxl', 'libxc'),
    config: xsString,
    pages: fc.array(pageRecord, { maxLength: 4 }),
    verify: fc.boolean(),
    optional: fc.option(blob(20), { nil: undefined }),
    xenstore: fc.option(fc.array(xsPair, { maxLength: 3 }), { nil: undefined }),
    emu: fc.option(blob(30), { nil: undefined }),
    cpuid: fc.integer({ min: 0, max: 3 }),
  })
  .map((r) => {
    const libxc: Part[] = [imageHeader(3), domainHeader(r.hvm ? 2 : 1)];
    if (!r.hvm) libxc.push(pvInfo());
    if (r.cpuid) libxc.push(rawRecord(0x11, new Uint8Array(24 * r.cpuid)));
    libxc.push(rec('libxc', 'STATIC_DATA_END'));
    if (!r.hvm) libxc.push(p2mFrames(1023));
    libxc.push(...r.pages);
    if (r.optional) libxc.push(rawRecord(0x80000042, r.optional));
    // A debug re-send repeats the last copies (here: the last page record), which the reader compares (LIBXC-VERIFY-MISMATCH).
    if (r.verify) libxc.push(rec('libxc', 'VERIFY'), ...r.pages.slice(-1));
    libxc.push(tscInfo());
    libxc.push(...(r.hvm ? [hvmContext(), hvmParams()] : [sharedInfo(), vcpuBasic(0)]));
    libxc.push(rec('libxc', 'END'));
    if (r.container === 'libxc') return { bytes: concat(libxc), opts: {} };
    const libxl: Part[] = [libxlHeader(), rec('libxl', 'LIBXC_CONTEXT'), ...libxc];
    if (r.hvm && r.xenstore) libxl.push(xenstoreData(r.xenstore));
    if (r.hvm && r.emu) libxl.push(rec('libxl', 'EMULATOR_CONTEXT', { kind: 'emulator-context', emulatorId: 2, index: 0, blob: r.emu }));
    libxl.push(rec('libxl', 'END'));
    if (r.container === 'libxl') return { bytes: concat(libxl), opts: {} };
    return { bytes: concat([xlHeader(`${r.config}\0`), ...libxl]), opts: {} };
  });

const synthOptions: fc.Arbitrary<SynthOptions> = fc
  .record({
    kind: fc.constantFrom('pv', 'hvm', 'pvh') as fc.Arbitrary<'pv' | 'hvm' | 'pvh'>,
    pages: fc.integer({ min: 1, max: 40 }),
    passes: fc.integer({ min: 1, max: 3 }),
    checkpoints: fc.integer({ min: 0, max: 3 }),
    colo: fc.boolean(),
    postcopy: fc.boolean(),
    xl: fc.boolean(),
    batch: fc.integer({ min: 1, max: 16 }),
    seed: fc.integer({ min: 1, max: 1000 }),
  })
  .map((o) => {
    const s: SynthOptions = { ...o };
    if (o.postcopy) {
      s.checkpoints = 0;
      s.colo = false;
      if (o.kind === 'pv') s.kind = 'hvm';
    }
    if (o.colo && (s.checkpoints ?? 0) === 0) s.colo = false;
    return s;
  });

async function synthBytes(o: SynthOptions): Promise<Uint8Array> {
  const sink = new MemorySink({ copy: true });
  await synth(sink, o);
  return concat([...sink.chunks]);
}

const synthReaderOptions = (o: SynthOptions): ReaderOptions =>
  o.postcopy ? { dialect: 'postcopy-rfc' } : o.colo ? { mode: 'colo' } : (o.checkpoints ?? 0) > 0 ? { mode: 'remus' } : {};

describe('fuzz: random valid streams round-trip exactly', () => {
  it('random record sequences (build.ts): decode → encode and JSON, byte-exact', () => {
    fc.assert(
      fc.property(validStream, ({ bytes, opts }) => {
        const r = readStreamSync(bytes, opts).readAll();
        expect(r.end.status).toBe('complete');
        expect(r.problems.every((p) => p.severity === 'note')).toBe(true);
        roundTrips(bytes, r.items, 'upstream');
      }),
      params(),
    );
  });

  it('synth streams with random options (every mode): decode → encode and JSON, byte-exact', async () => {
    await fc.assert(
      fc.asyncProperty(synthOptions, async (o) => {
        const bytes = await synthBytes(o);
        const opts = synthReaderOptions(o);
        const r = readStreamSync(bytes, opts).readAll();
        expect(r.end.status).toBe(opts.mode ? 'failover' : 'complete');
        roundTrips(bytes, r.items, opts.dialect ?? 'upstream');
      }),
      params(0.5),
    );
  });
});

// ------------------------------------------------------------ mutations

const SEEDS: Array<[string, Uint8Array, ReaderOptions]> = [
  ['§11 example', minimalXl(), {}],
  ['plain HVM', plainHvm([[0, 1], [1]]), {}],
  ['plain PV', plainPv([[0, 1]]), {}],
  ['Remus', checkpointed(2), {}],
  ['COLO', checkpointed(2, true), { mode: 'colo' }],
  ['postcopy', postcopy(), { dialect: 'postcopy-rfc' }],
  [
    'HVM with xenstore',
    concat([
      xlHeader(),
      libxlHeader(),
      rec('libxl', 'LIBXC_CONTEXT'),
      imageHeader(3),
      domainHeader(2),
      rec('libxc', 'STATIC_DATA_END'),
      pageData([0]),
      tscInfo(),
      hvmContext(),
      hvmParams(),
      rec('libxc', 'END'),
      xenstoreData([
        ['a', 'b'],
        ['c/d', ''],
      ]),
      emulatorContext(),
      rec('libxl', 'END'),
    ]),
    {},
  ],
];

type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'set32'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'insert'; at: number; data: Uint8Array }
  | { kind: 'duplicate'; at: number; n: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('set32' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(0, 1, 0x10, 0x7fffffff, 0x80000000, 0xffffffff, 0x08000000, 0x08000001), fc.nat()),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), data: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 200 }) }),
);

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = bytes.length ? m.at % bytes.length : 0;
  const b = Buffer.from(bytes);
  switch (m.kind) {
    case 'flip': {
      const c = Buffer.from(b);
      if (c.length) c[at] ^= m.xor;
      return new Uint8Array(c);
    }
    case 'set32': {
      const c = Buffer.from(b);
      const p = at - (at % 4);
      if (p + 4 <= c.length) c.writeUInt32LE(m.value >>> 0, p);
      return new Uint8Array(c);
    }
    case 'truncate':
      return new Uint8Array(b.subarray(0, at));
    case 'delete':
      return new Uint8Array(Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]));
    case 'insert':
      return new Uint8Array(Buffer.concat([b.subarray(0, at), m.data, b.subarray(at)]));
    case 'duplicate':
      return new Uint8Array(Buffer.concat([b.subarray(0, at + m.n), b.subarray(at)]));
  }
}

/** Only StreamFormatError or a valid end; never 'complete' if the result is shorter than where END was... (not knowable): just typed. */
function readsTyped(bytes: Uint8Array, opts: ReaderOptions): void {
  for (const strict of [true, false]) {
    try {
      readStreamSync(bytes, { ...opts, strict }).readAll();
    } catch (e) {
      if (!(e instanceof StreamFormatError)) throw new Error(`untyped ${(e as Error).stack ?? String(e)}`);
    }
  }
}

/** Push `bytes` into `d` in chunks of `sizes` (cycled). */
function pushAll(d: PushDecoder, bytes: Uint8Array, sizes: number[]): void {
  let pos = 0;
  for (let k = 0; pos < bytes.length; k++) {
    const n = sizes[k % sizes.length];
    d.push(bytes.subarray(pos, pos + n));
    pos += n;
  }
}

function pushTyped(bytes: Uint8Array, opts: ReaderOptions, sizes: number[]): void {
  const d = new PushDecoder(opts);
  try {
    pushAll(d, bytes, sizes);
    d.end();
  } catch (e) {
    if (!(e instanceof StreamFormatError)) throw new Error(`untyped ${(e as Error).stack ?? String(e)}`);
  }
}

type PushVerdict = {
  end?: StreamEnd;
  error?: Pick<StreamFormatError, 'name' | 'ruleId' | 'offset' | 'message' | 'recordIndex' | 'recordName'>;
  problems: unknown;
};

/** How a PushDecoder fed `bytes` in chunks of `sizes` ends: its end or its error, and its problems. */
function pushVerdict(bytes: Uint8Array, opts: ReaderOptions, sizes: number[]): PushVerdict {
  const d = new PushDecoder(opts);
  try {
    pushAll(d, bytes, sizes);
    return { end: d.end(), problems: d.problems };
  } catch (e) {
    const { name, ruleId, offset, message, recordIndex, recordName } = e as StreamFormatError;
    return { error: { name, ruleId, offset, message, recordIndex, recordName }, problems: d.problems };
  }
}

describe('fuzz: mutated valid streams never crash the reader', () => {
  const seed = fc.constantFrom(...SEEDS);

  it('1–4 random mutations (flip, set u32, truncate, delete, insert, duplicate): StreamFormatError or a valid end', () => {
    fc.assert(
      fc.property(seed, fc.array(mutation, { minLength: 1, maxLength: 4 }), ([, bytes, opts], ms) => {
        readsTyped(ms.reduce(apply, bytes), opts);
      }),
      params(4),
    );
  });

  it('splices of two valid streams (any dialect/mode options): StreamFormatError or a valid end', () => {
    fc.assert(
      fc.property(seed, seed, fc.nat(), fc.nat(), ([, a, opts], [, b], i, j) => {
        const s = new Uint8Array(Buffer.concat([a.subarray(0, i % (a.length + 1)), b.subarray(j % (b.length + 1))]));
        readsTyped(s, opts);
      }),
      params(2),
    );
  });

  it('mutations fed to PushDecoder in random chunks: StreamFormatError or a valid end', () => {
    fc.assert(
      fc.property(seed, mutation, fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }), ([, bytes, opts], m, sizes) => {
        pushTyped(apply(bytes, m), opts, sizes);
      }),
      params(2),
    );
  });

  it("mutations fed to PushDecoder in random chunks: pageContents 'skip' (pages and emulator blobs pass unread) gives 'read''s verdict", () => {
    fc.assert(
      fc.property(
        seed,
        mutation,
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        ([, bytes, opts], m, sizes, strict) => {
          const mutated = apply(bytes, m);
          const read = pushVerdict(mutated, { ...opts, strict, pageContents: 'read' }, sizes);
          const skip = pushVerdict(mutated, { ...opts, strict, pageContents: 'skip' }, sizes);
          // A page record is checked from its pfn array before its pages arrive (a pushed stream's end is not
          // known): the record the input cuts may be refused for what it says (a mutated length) before it is
          // found cut (a truncation, or a failover in a checkpointed stream). Emulator blobs have no such case.
          const cut = read.error?.ruleId === 'STREAM-TRUNCATED' || read.end?.status === 'failover';
          const cutPageRefused = cut && /PAGE_DATA$/.test(skip.error?.recordName ?? '');
          if (!cutPageRefused) expect(skip).toEqual(read);
        },
      ),
      params(2),
    );
  });

  it('a valid stream shortened by any amount never reads as complete', () => {
    fc.assert(
      fc.property(seed, fc.nat(), ([, bytes, opts], cut) => {
        const n = cut % bytes.length;
        try {
          const r = readStreamSync(bytes.subarray(0, n), opts).readAll();
          expect(r.end.status).toBe('failover');
        } catch (e) {
          expect(e).toBeInstanceOf(StreamFormatError);
        }
      }),
      params(),
    );
  });

  // Found by `npm run fuzz`: pfns are 52 bits, and the summary's pfn set once was a dense bitmap, so a
  // PAGE_DATA entry with pfn 2^32 allocated 1 GiB and larger ones threw an untyped RangeError.
  it('a PAGE_DATA pfn near 2^52 reads with bounded memory and no untyped error', () => {
    const body = new Uint8Array(16);
    const dv = new DataView(body.buffer);
    dv.setUint32(0, 1, true);
    dv.setUint32(12, (0xf << 28) | 0xfffff, true); // XTAB, pfn 0xf_ffff_0000_0000
    const bytes = concat([
      xlHeader(),
      libxlHeader(),
      rec('libxl', 'LIBXC_CONTEXT'),
      imageHeader(3),
      domainHeader(2),
      rec('libxc', 'STATIC_DATA_END'),
      rawRecord(1, body),
      tscInfo(),
      hvmContext(),
      hvmParams(),
      rec('libxc', 'END'),
      emulatorContext(),
      rec('libxl', 'END'),
    ]);
    const before = process.memoryUsage().arrayBuffers;
    readsTyped(bytes, {});
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 2 ** 20);
    expect(readStreamSync(bytes).readAll().summary.pfnMax).toBe(0xfffff * 2 ** 32);
  });

  // Found by this suite's seeds: input that starts with the gzip magic but is not valid gzip once escaped
  // as zlib's untyped Error.
  it('input starting with the gzip magic that is not valid gzip gives the typed error', () => {
    const fake = new Uint8Array(64);
    fake.set([0x1f, 0x8b]);
    readsTyped(fake, {});
    expect(() => readStreamSync(fake).readAll()).toThrow(StreamFormatError);
  });
});
