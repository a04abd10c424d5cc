import { execFileSync, spawn } from 'node:child_process';
import { constants, mkdtempSync, openSync, closeSync, writeFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesCopied } from './support/bytes-copied.js';
import { ChunkQueue, PushDecoder, readStream, type StreamItem } from '../src/reader/index.js';
import { MemoryWindow, openWindow } from '../src/reader/sources.js';
import { StreamFormatError } from '../src/codec/index.js';
import * as B from './support/build.js';

const dir = mkdtempSync(join(tmpdir(), 'xms-src-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = B.plainHvm([
  [0, 1, 2, 3, 4, 5, 6, 7],
  [2, 3],
]);
const file = join(dir, 'plain.bin');
writeFileSync(file, bytes);
writeFileSync(`${file}.gz`, gzipSync(bytes));

async function walk(source: Parameters<typeof readStream>[0], options: Parameters<typeof readStream>[1] = {}) {
  const reader = readStream(source, options);
  const items: StreamItem[] = [];
  for await (const it of reader) items.push(it);
  return { items, end: reader.end, summary: reader.summary() };
}

/** Deterministic odd-sized chunks, so records straddle chunk boundaries. */
function* chunked(b: Uint8Array, sizes = [1, 7, 8, 13, 4096, 5000, 3]): Generator<Uint8Array> {
  for (let pos = 0, i = 0; pos < b.length; i++) {
    const n = sizes[i % sizes.length];
    yield b.slice(pos, pos + n);
    pos += n;
  }
}

describe('every kind of source gives the same items', async () => {
  const reference = await walk(bytes);
  const shape = (items: StreamItem[]) => items.map((i) => [i.kind, i.offset, i.length]);

  const sources: Array<[string, () => Parameters<typeof readStream>[0] | Promise<Parameters<typeof readStream>[0]>]> = [
    ['a path', () => file],
    ['a gzip path', () => `${file}.gz`],
    ['an fd', () => openSync(file, 'r')],
    ['a FileHandle', () => open(file, 'r')],
    ['a Node Readable in odd chunks', () => Readable.from(chunked(bytes))],
    ['a gzip Readable', () => Readable.from(chunked(gzipSync(bytes), [100]))],
    ['a web ReadableStream', () => Readable.toWeb(Readable.from(chunked(bytes))) as ReadableStream<Uint8Array>],
    [
      'an async iterable',
      () =>
        (async function* () {
          yield* chunked(bytes, [3, 9000]);
        })(),
    ],
    ['gzip bytes', () => new Uint8Array(gzipSync(bytes))],
  ];
  for (const [name, make] of sources) {
    it(name, async () => {
      const src = await make();
      const got = await walk(src);
      expect(shape(got.items)).toEqual(shape(reference.items));
      expect(got.end).toEqual(reference.end);
      expect(got.summary.distinctPfns).toBe(8);
      if (typeof src === 'number') closeSync(src);
      else if (src && typeof src === 'object' && 'close' in src && typeof src.close === 'function' && 'fd' in src) await src.close();
    });
  }

  it('a pipe from a child process (process.stdin of another program)', async () => {
    const child = spawn('cat', [file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const got = await walk(child.stdout);
    expect(shape(got.items)).toEqual(shape(reference.items));
  });

  for (const [name, src] of [
    ['a FIFO (non-seekable path)', file],
    ['a gzip FIFO', `${file}.gz`],
  ] as const) {
    it(name, async () => {
      const fifo = join(dir, `fifo-${name.length}`);
      execFileSync('mkfifo', [fifo]);
      const writer = spawn('sh', ['-c', `cat '${src}' > '${fifo}'`], { stdio: 'ignore' });
      const closed = new Promise((r) => writer.on('close', r));
      const got = await walk(fifo);
      expect(shape(got.items)).toEqual(shape(reference.items));
      await closed;
    });
  }

  for (const [name, src] of [
    ['a FIFO read with blocking reads (syncReads)', file],
    ['a gzip FIFO read with blocking reads', `${file}.gz`],
  ] as const) {
    it(name, async () => {
      const fifo = join(dir, `fifo-sync-${name.length}`);
      execFileSync('mkfifo', [fifo]);
      const writer = spawn('sh', ['-c', `cat '${src}' > '${fifo}'`], { stdio: 'ignore' });
      const closed = new Promise((r) => writer.on('close', r));
      const got = await walk(fifo, { syncReads: true });
      expect(shape(got.items)).toEqual(shape(reference.items));
      await closed;
    });
  }

  it('a non-blocking pipe fd with syncReads: EAGAIN is waited out, not taken for an error or EOF', async () => {
    const fifo = join(dir, 'fifo-nonblocking');
    execFileSync('mkfifo', [fifo]);
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeEnd = openSync(fifo, constants.O_WRONLY);
    // The writer starts late: the first reads find the pipe empty (EAGAIN).
    const writer = spawn('sh', ['-c', `sleep 0.3; cat '${file}'`], { stdio: ['ignore', writeEnd, 'inherit'] });
    closeSync(writeEnd);
    const closed = new Promise((r) => writer.on('close', r));
    try {
      const got = await walk(fd, { syncReads: true });
      expect(shape(got.items)).toEqual(shape(reference.items));
      expect(got.end).toEqual(reference.end);
    } finally {
      await closed;
      closeSync(fd);
    }
  });

  it('recycled buffers give the same walk', async () => {
    const got = await walk(file, { recycleBuffers: true });
    expect(shape(got.items)).toEqual(shape(reference.items));
  });

  it('recycled buffers give the same walk from odd chunks and gzip (records assembled in one reused buffer)', async () => {
    const big = B.plainHvm([Array.from({ length: 300 }, (_, i) => i), [7, 8], Array.from({ length: 200 }, (_, i) => 1000 + i)]);
    const want = await walk(big);
    const body = (items: StreamItem[]) =>
      items.map((i) => (i.kind === 'record' && i.record.body.kind === 'page-data' ? Buffer.from(i.record.body.pageData).toString('base64') : i.kind));
    for (const src of [() => Readable.from(chunked(big, [4093, 1, 70001])), () => Readable.from(chunked(gzipSync(big), [999]))]) {
      const reader = readStream(src(), { recycleBuffers: true });
      const items: string[] = [];
      // Views are valid until the next item: look at each as it comes.
      for await (const item of reader) items.push(...body([item]));
      expect(items).toEqual(body(want.items));
    }
  });

  it("alternating buffers ('alternate'): an item's views hold until the item after the next is asked for", async () => {
    // Records of 300, 2, 200, 300 pages: each read needs a new buffer's worth, so the two buffers take turns.
    const big = B.plainHvm([
      Array.from({ length: 300 }, (_, i) => i),
      [7, 8],
      Array.from({ length: 200 }, (_, i) => 1000 + i),
      Array.from({ length: 300 }, (_, i) => 2000 + i),
    ]);
    const path = join(dir, 'alternate.bin');
    writeFileSync(path, big);
    const pages = (i: StreamItem) =>
      i.kind === 'record' && i.record.body.kind === 'page-data' ? Buffer.from(i.record.body.pageData).toString('base64') : i.kind;
    const want = (await walk(big)).items.map(pages);
    const got: string[] = [];
    let previous: { item: StreamItem; pages: string } | undefined;
    for await (const item of readStream(path, { recycleBuffers: 'alternate' })) {
      // The item before this one is still intact (extract writes it out while this one is read).
      if (previous) expect(pages(previous.item)).toBe(previous.pages);
      previous = { item, pages: pages(item) };
      got.push(previous.pages);
    }
    expect(got).toEqual(want);
  });

  it('a truncated stream from a Readable throws STREAM-TRUNCATED with the EOF offset', async () => {
    await expect(walk(Readable.from(chunked(bytes.subarray(0, 5000))))).rejects.toMatchObject({ ruleId: 'STREAM-TRUNCATED', offset: 5000 });
  });
});

describe('PushDecoder (protocol sessions)', () => {
  it('finds the end of the stream inside a byte flow and keeps what follows', () => {
    const go = new Uint8Array(Buffer.from('domain is yours, you are cleared to unpause\0'));
    const flow = B.concat([bytes, go]);
    const dec = new PushDecoder({ stopAtEnd: true });
    let n = 0;
    for (const c of chunked(flow, [777])) n += dec.push(c).length;
    expect(dec.done).toBe(true);
    expect(n).toBeGreaterThan(10);
    expect(Buffer.from(dec.trailing()).toString('latin1')).toBe(Buffer.from(go).toString('latin1'));
    expect(dec.end()).toMatchObject({ complete: true, status: 'complete' });
  });

  it('end() on an incomplete stream throws the typed error', () => {
    const dec = new PushDecoder();
    dec.push(bytes.subarray(0, 300));
    expect(dec.done).toBe(false);
    expect(() => dec.end()).toThrow(StreamFormatError);
  });
});

describe('bounded memory', () => {
  it('reads a 1 GiB stream through a pipe with memory bounded by a few records', async () => {
    const child = spawn(process.execPath, [join(__dirname, 'support', 'big-stream.mjs'), '1024'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakArrayBuffers = before.arrayBuffers;
    const reader = readStream(child.stdout);
    let records = 0;
    for await (const item of reader) {
      if (item.kind !== 'record') continue;
      records++;
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
    }
    expect(reader.end?.status).toBe('complete');
    expect(reader.end?.bytesRead).toBeGreaterThanOrEqual(1 << 30);
    expect(records).toBe(262);
    // A PAGE_DATA record is ~4 MiB: allow a few records in flight plus pipe chunks and GC slack,
    // far below the 1 GiB that went through.
    expect(peakArrayBuffers - before.arrayBuffers).toBeLessThan(96 * 2 ** 20);
    expect(peakRss - before.rss).toBeLessThan(256 * 2 ** 20);
  });
});

describe('ChunkQueue copies a record spanning chunks at most once', () => {
  it('an 8 MiB record fed in 64 KiB chunks, asked for after each chunk, is copied once', () => {
    const n = 8 << 20;
    const record = new Uint8Array(n);
    for (let i = 0; i < n; i += 4096) record[i] = (i >> 12) & 0xff;
    const q = new ChunkQueue();
    let whole = false;
    const copied = bytesCopied(() => {
      for (let at = 0; at < n; at += 64 << 10) {
        q.push(record.slice(at, at + (64 << 10)));
        whole = q.assemble(n);
        expect(whole).toBe(at + (64 << 10) >= n);
      }
    });
    expect(whole).toBe(true);
    expect(copied).toBe(n);
    expect(Buffer.compare(q.current(), record)).toBe(0);
  });

  it('whatever the chunking, a push-decoded stream copies no more bytes than it holds', () => {
    // A 16 MiB EMULATOR_CONTEXT, the session receiver's worst case.
    const blob = new Uint8Array(16 << 20).fill(0x5a);
    const stream = B.concat([
      B.xlHeader(),
      B.libxlHeader(),
      B.rec('libxl', 'LIBXC_CONTEXT'),
      ...B.hvmLibxc(),
      B.rec('libxl', 'EMULATOR_CONTEXT', { kind: 'emulator-context', emulatorId: 2, index: 0, blob }),
      B.rec('libxl', 'END'),
    ]);
    for (const sizes of [[64 << 10], [32 << 10, 1, 4095], [1 << 20, 7]]) {
      const chunks = [...chunked(stream, sizes)];
      const dec = new PushDecoder();
      let items = 0;
      const copied = bytesCopied(() => {
        for (const c of chunks) items += dec.push(c).length;
      });
      expect(dec.end()).toMatchObject({ complete: true });
      expect(items).toBeGreaterThan(8);
      expect(copied).toBeLessThanOrEqual(stream.length);
    }
  });

  it('at the end of the input current() holds the rest, and rest() returns what was not consumed', () => {
    const q = new ChunkQueue();
    q.push(new Uint8Array([1, 2, 3]));
    q.push(new Uint8Array([4, 5]));
    expect(q.assemble(10)).toBe(false);
    expect([...q.current()]).toEqual([1, 2, 3, 4, 5]);
    q.consume(2);
    q.push(new Uint8Array([6]));
    expect(q.assemble(2)).toBe(true);
    expect([...q.rest()]).toEqual([3, 4, 5, 6]);
  });
});

describe('passed bytes read back by position (the VERIFY check on seekable inputs)', () => {
  it('a regular file reads back any earlier range, in any order, across its read-back runs and up to its end', async () => {
    const size = 3 * 1024 * 1024 + 123;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >>> 12)) & 0xff;
    const path = join(dir, 'passed.bin');
    writeFileSync(path, data);
    for (const syncReads of [false, true]) {
      const window = await openWindow(path, { syncReads });
      try {
        const passed = window.passedBytes;
        expect(passed).toBeDefined();
        // Forwards, backwards, straddling the 1 MiB runs, and the file's last bytes.
        for (const [offset, length] of [
          [0, 4096],
          [4096, 4096],
          [2 * 1024 * 1024 + 5, 4096],
          [100, 4096],
          [1024 * 1024 - 2048, 4096],
          [size - 4096, 4096],
          [size - 10, 10],
        ]) {
          expect(Buffer.from(passed?.(offset, length) ?? []).equals(data.subarray(offset, offset + length)), `${offset}+${length}`).toBe(true);
        }
        expect(() => passed?.(size - 10, 4096)).toThrow(/the input changed while it was read/);
      } finally {
        await window.close();
      }
    }
  });

  it('bytes in memory read back as views; a pipe, gzip or chunks cannot read back', async () => {
    expect(new MemoryWindow(bytes).passedBytes(8, 16)).toEqual(bytes.subarray(8, 24));
    const gz = await openWindow(`${file}.gz`);
    const chunks = await openWindow(Readable.from([bytes]));
    try {
      expect(gz.passedBytes).toBeUndefined();
      expect(chunks.passedBytes).toBeUndefined();
    } finally {
      await gz.close();
      await chunks.close();
    }
  });
});
