/**
 * PushDecoder with pageContents 'skip' (the session receiver's mode) lets the
 * blob of EMULATOR_CONTEXT pass counted, never assembled, as it lets pages
 * pass: the record is decoded from its headers and padding, and every item,
 * problem, summary and verdict is the one the full decode gives, however the
 * bytes are pushed and although each pushed chunk is overwritten right after.
 */
import { describe, expect, it } from 'vitest';
import { bytesCopied } from './support/bytes-copied.js';
import { PushDecoder, StreamDecoder, type ReaderOptions, type StreamItem } from '../src/reader/index.js';
import {
  concat,
  domainHeader,
  hvmContext,
  hvmLibxc,
  hvmParams,
  imageHeader,
  libxlHeader,
  pageData,
  plainPv,
  rec,
  tscInfo,
  xenstoreData,
  xlHeader,
} from './support/build.js';

/** EMULATOR_CONTEXT with a blob of `blobBytes` (not all zeros); padding bytes as given (default zero). */
function emulatorRecord(blobBytes: number, emulatorId = 2, padding?: number[]): Uint8Array {
  const blob = new Uint8Array(blobBytes);
  for (let i = 0; i < blob.length; i += 251) blob[i] = i & 0xff;
  const record = rec('libxl', 'EMULATOR_CONTEXT', { kind: 'emulator-context', emulatorId, index: 0, blob });
  if (padding) record.set(padding, 16 + blobBytes);
  return record;
}

type Span = { start: number; padding: number; end: number };
/** A stream and where its (last) EMULATOR_CONTEXT record starts, where its padding starts, and where it ends. */
type Built = { bytes: Uint8Array; span: Span };

/** `parts` joined; `emulator` is the last-but-`after` part. */
function built(parts: Uint8Array[], emulator: Uint8Array, after: number): Built {
  const bytes = concat(parts);
  const start = bytes.length - after - emulator.length;
  const bodyLength = new DataView(emulator.buffer, emulator.byteOffset).getUint32(4, true);
  return { bytes, span: { start, padding: start + 8 + bodyLength, end: start + emulator.length } };
}

/** A plain HVM xl stream whose EMULATOR_CONTEXT is `emulator`. */
function hvmWith(emulator: Uint8Array): Built {
  const end = rec('libxl', 'END');
  return built([xlHeader(), libxlHeader(), rec('libxl', 'LIBXC_CONTEXT'), ...hvmLibxc(), xenstoreData(), emulator, end], emulator, end.length);
}

/** A plain PV stream with `emulator` before its libxl END (which it may not have). */
function pvWith(emulator: Uint8Array): Built {
  const pv = plainPv();
  const end = pv.subarray(pv.length - 8);
  return built([pv.subarray(0, pv.length - 8), emulator, end], emulator, end.length);
}

/** A Remus stream of two complete checkpoints, each ending with `emulator`. */
function remusWith(emulator: Uint8Array): Built {
  const parts = [xlHeader(), libxlHeader(), rec('libxl', 'LIBXC_CONTEXT'), imageHeader(), domainHeader(2), rec('libxc', 'STATIC_DATA_END')];
  const checkpointEnd = rec('libxl', 'CHECKPOINT_END');
  for (let c = 0; c < 2; c++) {
    parts.push(pageData([c], c), tscInfo(), hvmContext(), hvmParams(), rec('libxc', 'CHECKPOINT'), emulator, checkpointEnd);
  }
  return built(parts, emulator, checkpointEnd.length);
}

/** What an item says, minus the blob's bytes (read at once: the chunk it views is overwritten next). */
function described(item: StreamItem): unknown {
  if (item.kind !== 'record') return { kind: item.kind, offset: item.offset, length: item.length };
  const { record } = item;
  const body = record.body.kind === 'emulator-context' ? { emulatorId: record.body.emulatorId, index: record.body.index } : record.body.kind;
  return {
    offset: item.offset,
    length: item.length,
    index: item.index,
    checkpoint: item.checkpoint,
    layer: item.layer,
    name: record.name,
    bodyLength: item.bodyLength,
    padding: record.padding && [...record.padding],
    body,
  };
}

type Outcome = { items: unknown[]; blobs: Array<number | 'skipped'>; problems: unknown; summary?: unknown; end?: unknown; error?: unknown };

function errorOf(error: unknown): unknown {
  const e = error as { name: string; ruleId?: string; offset?: number; message: string };
  return { name: e.name, ruleId: e.ruleId, offset: e.offset, message: e.message };
}

/** Push `bytes` split at `cuts`, overwriting each chunk after its push, then end(). */
function pushed(bytes: Uint8Array, opts: ReaderOptions, cuts: number[]): Outcome {
  const decoder = new PushDecoder(opts);
  const out: Outcome = { items: [], blobs: [], problems: decoder.problems };
  try {
    const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length])].sort((a, b) => a - b);
    for (let k = 1; k < bounds.length; k++) {
      // A Buffer, as the receiver's ring hands out (whose slice() is a view, not a copy).
      const chunk = Buffer.from(bytes.subarray(bounds[k - 1], bounds[k]));
      for (const item of decoder.push(chunk)) {
        out.items.push(described(item));
        if (item.kind === 'record' && item.record.body.kind === 'emulator-context') {
          out.blobs.push(item.record.body.blobSkipped ? 'skipped' : item.record.body.blob.length);
        }
      }
      // The caller reuses the memory (the receiver's ring): a kept view would now read garbage.
      chunk.fill(0xa5);
    }
    const end = decoder.end();
    out.end = end;
    out.summary = decoder.summary(end);
  } catch (error) {
    out.error = errorOf(error);
  }
  out.problems = structuredClone(decoder.problems);
  return out;
}

/** Seeded chunk boundaries, 1..maxChunk apart. */
function randomCuts(length: number, seed: number, maxChunk: number): number[] {
  const cuts: number[] = [];
  for (let s = seed, pos = 0; pos < length; ) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    pos += 1 + (s % maxChunk);
    cuts.push(pos);
  }
  return cuts;
}

/** Boundaries that split the record header, the emulator sub-header and the padding, one byte at a time around each. */
function splittingCuts({ start, padding, end }: Span): number[][] {
  const out: number[][] = [];
  for (let k = start; k <= start + 17; k++) out.push([k, padding + 1]);
  for (let k = padding - 1; k <= end + 1; k++) out.push([start + 11, k]);
  out.push([start + 20, ...byteByByte(padding, end)]);
  out.push([start + 3, start + 9, start + 14, start + 1000, padding - 5, padding + 2, end - 1]);
  return out;
}

/** Each byte of [from, to] alone. */
function byteByByte(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, j) => from + j);
}

/**
 * With the blob skipped the outcome is the full decode's ('read'), but for
 * the blob's bytes. Returns the skipping run's blobs ('skipped', or a length
 * where the record arrived whole in one push and was decoded in full).
 */
function expectSameAsRead(bytes: Uint8Array, opts: ReaderOptions, cuts: number[]): Outcome['blobs'] {
  const reference = pushed(bytes, { ...opts, pageContents: 'read' }, cuts);
  const passing = pushed(bytes, { ...opts, pageContents: 'skip' }, cuts);
  expect({ ...passing, blobs: [] }).toEqual({ ...reference, blobs: [] });
  expect(passing.blobs.length).toBe(reference.blobs.length);
  for (const [i, blob] of passing.blobs.entries()) expect([reference.blobs[i], 'skipped']).toContain(blob);
  return passing.blobs;
}

describe('PushDecoder passing the EMULATOR_CONTEXT blob: the same outcome as the full decode', () => {
  // 64 KiB + 3: five bytes of padding after the blob.
  const valid = hvmWith(emulatorRecord((64 << 10) + 3));

  it('a valid stream, pushed in 1–7 byte pieces, in pieces of up to 5000 bytes, and split inside the headers and the padding', () => {
    const { bytes, span } = valid;
    for (const strict of [true, false]) {
      expect(expectSameAsRead(bytes, { strict }, randomCuts(bytes.length, 7, 7))).toEqual(['skipped']);
      expect(expectSameAsRead(bytes, { strict }, randomCuts(bytes.length, 9, 5000))).toEqual(['skipped']);
      for (const cuts of splittingCuts(span)) expect(expectSameAsRead(bytes, { strict }, cuts)).toEqual(['skipped']);
    }
    // A record that arrives whole in one push is decoded in full: its bytes are there anyway.
    expect(expectSameAsRead(bytes, {}, [span.start])).toEqual([span.padding - span.start - 16]);
  });

  it('non-zero padding is reported, also when it arrives byte by byte after the record header', () => {
    const { bytes, span } = hvmWith(emulatorRecord((64 << 10) + 3, 2, [0, 0, 7, 0, 0]));
    const cuts = [span.start + 20, ...byteByByte(span.padding, span.end)];
    const lenient = pushed(bytes, { strict: false, pageContents: 'skip' }, cuts);
    expect(lenient.problems).toEqual([expect.objectContaining({ offset: span.padding, message: expect.stringMatching(/^RECORD-PADDING-NONZERO/) })]);
    expect(lenient.items).toContainEqual(expect.objectContaining({ name: 'EMULATOR_CONTEXT', padding: [0, 0, 7, 0, 0] }));
    expect(pushed(bytes, { strict: true, pageContents: 'skip' }, cuts).error).toMatchObject({ ruleId: 'RECORD-PADDING-NONZERO', offset: span.padding });
    for (const strict of [true, false]) {
      for (const split of splittingCuts(span)) expectSameAsRead(bytes, { strict }, split);
    }
  });

  it('an emulator record in a PV stream (EMULATOR_NOT_HVM) and an unknown emulator id (also with bad padding) are refused alike', () => {
    const inPv = pvWith(emulatorRecord(20_001));
    expect(pushed(inPv.bytes, { pageContents: 'skip' }, [inPv.span.start + 20]).error).toMatchObject({ ruleId: 'LIBXL-EMULATOR-NOT-HVM' });
    const badId = hvmWith(emulatorRecord(20_001, 7));
    expect(pushed(badId.bytes, { pageContents: 'skip' }, [badId.span.start + 20]).error).toMatchObject({ ruleId: 'LIBXL-EMULATOR-ID' });
    const badIdAndPadding = hvmWith(emulatorRecord(20_001, 7, [1, 0, 0, 0, 0, 0, 0]));
    for (const { bytes, span } of [inPv, badId, badIdAndPadding]) {
      for (const strict of [true, false]) {
        expectSameAsRead(bytes, { strict }, randomCuts(bytes.length, 3, 3000));
        for (const cuts of splittingCuts(span)) expectSameAsRead(bytes, { strict }, cuts);
      }
    }
  });

  it('a stream cut inside the blob, the sub-header or the padding gives the same truncation (or, checkpointed, failover) verdict', () => {
    const cases: Array<[Built, ReaderOptions]> = [
      [valid, {}],
      // Cut in the second checkpoint's record: a failover to the first.
      [remusWith(emulatorRecord(40_003)), { mode: 'remus' }],
    ];
    for (const [{ bytes, span }, opts] of cases) {
      const at = [
        span.start + 5,
        span.start + 12,
        span.start + 16,
        span.start + 17,
        span.start + 20_000,
        span.padding - 1,
        span.padding,
        span.padding + 3,
        span.end - 1,
      ];
      for (const cut of at) {
        const truncated = bytes.subarray(0, cut);
        expectSameAsRead(truncated, opts, randomCuts(cut, cut, 4000));
        expectSameAsRead(truncated, opts, [span.start + 10, span.padding + 1]);
      }
    }
    const [{ bytes, span }] = cases[0];
    expect(pushed(bytes.subarray(0, span.start + 20_000), { pageContents: 'skip' }, [span.start + 20]).error).toMatchObject({
      ruleId: 'STREAM-TRUNCATED',
      message: expect.stringContaining(`it needs ${span.end - span.start} bytes, 20000 are there`),
    });
    const [, [remus]] = cases;
    expect(pushed(remus.bytes.subarray(0, remus.span.start + 20_000), { mode: 'remus', pageContents: 'skip' }, [remus.span.start + 20]).end).toMatchObject({
      status: 'failover',
      bytesRead: remus.span.start + 20_000,
    });
  });

  it('a decoder told of omitted bytes the record did not offer refuses them', () => {
    const decoder = new StreamDecoder({ container: 'libxl' });
    expect(decoder.next(libxlHeader())).toMatchObject({ item: { kind: 'libxl-header' } });
    expect(() => decoder.next(rec('libxl', 'END'), 8, 4)).toThrow(/omitted from a record that offered none/);
  });
});

describe('PushDecoder passing the EMULATOR_CONTEXT blob copies none of it', () => {
  it('a 4 MiB blob fed in 64 KiB chunks copies only headers and padding', () => {
    const blobBytes = (4 << 20) + 5;
    const { bytes } = hvmWith(emulatorRecord(blobBytes));
    const decoder = new PushDecoder({ pageContents: 'skip' });
    let emulator: StreamItem | undefined;
    const copied = bytesCopied(() => {
      for (let at = 0; at < bytes.length; at += 64 << 10) {
        for (const item of decoder.push(bytes.subarray(at, at + (64 << 10)))) {
          if (item.kind === 'record' && item.record.name === 'EMULATOR_CONTEXT') emulator = item;
        }
      }
    });
    expect(decoder.end()).toMatchObject({ complete: true });
    expect(emulator).toMatchObject({ length: 16 + blobBytes + 3, record: { body: { emulatorId: 2, blobSkipped: true, blob: new Uint8Array(0) } } });
    // Records spanning a chunk boundary are a few KiB; the 4 MiB blob may not be copied.
    expect(copied).toBeLessThan(64 << 10);
  });
});
