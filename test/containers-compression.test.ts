/**
 * Compressed inputs (issue #20 item 1): every format is found by its magic and
 * read as a stream by every kind of source; offsets are offsets in the
 * decompressed stream; a truncated or corrupt compressed input is a typed
 * error at the decompressed offset where the bytes stopped.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamFormatError } from '../src/codec/index.js';
import { COMPRESSION_NAMES, compressionOf, type CompressionName } from '../src/io/compression/index.js';
import { fzstdDecompressor } from '../src/io/compression/zstd.js';
import { decompressChunks } from '../src/reader/containers/decompress.js';
import { readStream, readStreamSync, type StreamItem } from '../src/reader/index.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { synth } from '../src/writer/synth.js';
import { EXTENSION, compress, missingTool, realSave, scratchDir } from './support/compressed-fixtures.js';

/** What a walk saw, without the items' byte views: kinds, offsets, lengths, record names. */
function shape(items: StreamItem[]): string[] {
  return items.map((i) => `${i.kind}@${i.offset}+${i.length}${i.kind === 'record' ? `:${i.record.name}` : ''}`);
}

async function walk(source: Parameters<typeof readStream>[0]): Promise<{ items: string[]; bytesRead: number }> {
  const reader = readStream(source, { pageContents: 'skip' });
  const items: StreamItem[] = [];
  const end = await reader.run((i) => items.push(i));
  return { items: shape(items), bytesRead: end.bytesRead };
}

async function errorOf(p: Promise<unknown>): Promise<StreamFormatError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(StreamFormatError);
  return e as StreamFormatError;
}

const scratch = scratchDir('containers-compression-');
let plain: Uint8Array;
let expected: { items: string[]; bytesRead: number };

beforeAll(async () => {
  plain = realSave('hvm128-save');
  expected = await walk(plain);
});
afterAll(() => scratch.remove());

describe.each(COMPRESSION_NAMES)('%s input (a real Xen 4.17 HVM save compressed at test time)', (format: CompressionName) => {
  let packed: Uint8Array;
  let path: string;
  beforeAll(() => {
    if (missingTool(format)) return;
    packed = compress(format, plain);
    path = scratch.file(`hvm${EXTENSION[format]}`, packed);
  });

  it('is recognised by its magic', (ctx) => {
    const why = missingTool(format);
    if (why) return ctx.skip(why);
    expect(compressionOf(packed)?.name).toBe(format);
    expect(compressionOf(plain)).toBeUndefined();
  });

  it('a path, a Readable and bytes in memory give the walk of the plain stream, at decompressed offsets', async (ctx) => {
    const why = missingTool(format);
    if (why) return ctx.skip(why);
    expect(await walk(path)).toEqual(expected);
    // The other sources share the path's decompression: one format is enough to show they reach it.
    if (format !== 'zstd') return;
    expect(await walk(createReadStream(path, { highWaterMark: 65536 }))).toEqual(expected);
    expect(await walk(packed)).toEqual(expected);
  });

  it('truncated: STREAM-TRUNCATED at the decompressed offset where the bytes stop', async (ctx) => {
    const why = missingTool(format);
    if (why) return ctx.skip(why);
    const cut = packed.subarray(0, Math.floor(packed.length / 2));
    const e = await errorOf(walk(Readable.from([cut])));
    expect(e.ruleId).toBe('STREAM-TRUNCATED');
    expect(e.offset).toBeGreaterThan(0);
    expect(e.offset).toBeLessThan(plain.length);
    expect(e.message).toContain(`${format}-compressed input`);
  });

  it('corrupt: a typed error (STREAM-COMPRESSED-CORRUPT or STREAM-TRUNCATED), never a plain exception', async (ctx) => {
    const why = missingTool(format);
    if (why) return ctx.skip(why);
    const bad = packed.slice();
    // Past the format's header, so it is still recognised; every byte of a stretch flipped.
    const from = Math.min(64, bad.length >> 2);
    for (let i = from; i < Math.min(bad.length - 8, from + 4096); i++) bad[i] ^= 0x5a;
    const e = await errorOf(walk(bad));
    expect(['STREAM-COMPRESSED-CORRUPT', 'STREAM-TRUNCATED', 'STREAM-NOT-V2']).toContain(e.ruleId);
  });
});

describe('zstd without the zstd command: the pure-JavaScript fallback (fzstd, ~30 MiB/s: on an 8 MiB synthetic stream)', () => {
  let small: Uint8Array;
  beforeAll(async () => {
    const sink = new MemorySink();
    await synth(sink, { kind: 'hvm', pages: 2048 });
    small = sink.bytes();
  });

  it('the synchronous reader decompresses bytes in memory (through the tool here)', (ctx) => {
    const why = missingTool('zstd');
    if (why) return ctx.skip(why);
    const sync = readStreamSync(compress('zstd', small), { pageContents: 'skip' }).readAll();
    expect(sync.end.bytesRead).toBe(small.length);
  });

  it('decompresses to the same bytes, in a stream', async (ctx) => {
    const why = missingTool('zstd');
    if (why) return ctx.skip(why);
    const plain = small;
    const packed = compress('zstd', plain);
    const filter = fzstdDecompressor();
    Readable.from([packed.subarray(0, 1000), packed.subarray(1000)]).pipe(filter.input);
    let n = 0;
    let same = true;
    for await (const c of filter.output as AsyncIterable<Uint8Array>) {
      if (same && !Buffer.from(c).equals(Buffer.from(plain.subarray(n, n + c.length)))) same = false;
      n += c.length;
    }
    await filter.finished;
    expect(n).toBe(plain.length);
    expect(same).toBe(true);
  });

  it('STREAM-TRUNCATED: fzstd on a truncated frame reports the decompressed offset', async (ctx) => {
    const why = missingTool('zstd');
    if (why) return ctx.skip(why);
    const packed = compress('zstd', small);
    const codec = { ...(compressionOf(packed) as NonNullable<ReturnType<typeof compressionOf>>), decompressor: fzstdDecompressor };
    const d = decompressChunks(codec, Readable.from([packed.subarray(0, packed.length >> 1)]));
    const e = await errorOf(
      (async () => {
        for await (const _ of d.chunks);
      })(),
    );
    expect(e.ruleId).toBe('STREAM-TRUNCATED');
    expect(e.message).toContain('fzstd');
  });
});
