/**
 * pageContents 'skip': on a regular file the reader checks each PAGE_DATA
 * record from its header and pfn array and steps over the pages unread; on a
 * pipe it reads them into a scratch buffer and keeps nothing. Both must give
 * exactly the verdicts, items, summaries and problems of a full read (every
 * fixture, the real Xen streams, truncations and PAGE_DATA mutations), and
 * the file must not have its page contents read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { StreamFormatError } from '../src/codec/index.js';
import { readStream, readStreamSync, type ReaderOptions, type RecordItem, type StreamItem } from '../src/reader/index.js';
import { verifyStream } from '../src/inspect/verify.js';
import { PAGE_SIZE, RECORD_HEADER_SIZE } from '../src/format/constants.js';
import { fixtureBytes, loadManifest } from './support/conformance-manifest.js';
import * as B from './support/build.js';

/**
 * A regular file held in memory, as the FileHandle the reader uses; counts the bytes read.
 * `maxRead`: short reads, so that even small records are not all read ahead and skip mode steps over them.
 */
function memoryFile(bytes: Uint8Array, maxRead = Infinity): FileHandle & { bytesRead: number } {
  const handle = {
    fd: 1 << 20, // never used as an fd: every read goes through read()
    bytesRead: 0,
    async read(buffer: Uint8Array, offset: number, length: number, position: number | null) {
      if (position === null) throw new Error('a regular file is read with positioned reads');
      const n = Math.max(0, Math.min(length, maxRead, bytes.length - position));
      buffer.set(bytes.subarray(position, position + n), offset);
      handle.bytesRead += n;
      return { bytesRead: n, buffer };
    },
    async stat() {
      return { isFile: () => true, size: bytes.length };
    },
    async close() {},
  };
  return handle as unknown as FileHandle & { bytesRead: number };
}

/**
 * The same bytes as a pipe: sequential reads of at most `maxRead` bytes, no size. In skip mode the reader
 * drains page contents through its scratch buffer (ByteWindow.drain) and must still give a full read's outcome.
 */
function memoryPipe(bytes: Uint8Array, maxRead = Infinity): FileHandle & { bytesRead: number } {
  let at = 0;
  const handle = {
    fd: 1 << 20,
    bytesRead: 0,
    async read(buffer: Uint8Array, offset: number, length: number, position: number | null) {
      if (position !== null) throw new Error('a pipe cannot be read at a position');
      const n = Math.max(0, Math.min(length, maxRead, bytes.length - at));
      buffer.set(bytes.subarray(at, at + n), offset);
      at += n;
      handle.bytesRead += n;
      return { bytesRead: n, buffer };
    },
    async stat() {
      return { isFile: () => false, size: 0 };
    },
    async close() {},
  };
  return handle as unknown as FileHandle & { bytesRead: number };
}

/** Everything a walk tells, errors included, comparable with toEqual. */
async function outcome(bytes: Uint8Array, opts: ReaderOptions, pageContents: 'read' | 'skip', maxRead = Infinity, input = memoryFile) {
  const file = input(bytes, maxRead);
  const reader = readStream(file, { ...opts, pageContents });
  const items: unknown[] = [];
  let error: unknown;
  try {
    for await (const item of reader) items.push(shape(item));
  } catch (e) {
    if (!(e instanceof StreamFormatError)) throw e;
    error = { rule: e.ruleId, offset: e.offset, recordIndex: e.recordIndex, message: e.message };
  }
  return { items, error, end: reader.end, summary: reader.summary(), problems: reader.problems.map((p) => ({ ...p })), bytesRead: file.bytesRead };
}

/** An item without its page views (what skip mode leaves out); everything else as decoded. */
function shape(item: StreamItem): unknown {
  if (item.kind !== 'record' || item.record.body.kind !== 'page-data')
    return JSON.stringify(item, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
  const { pageData: _pages, pagesSkipped: _skipped, ...entries } = item.record.body;
  return {
    kind: item.kind,
    offset: item.offset,
    length: item.length,
    index: item.index,
    layer: item.layer,
    name: item.record.name,
    bodyLength: item.bodyLength,
    checkpoint: item.checkpoint,
    entries,
  };
}

/** The same outcome; returns the bytes each mode read. */
async function expectSameOutcome(bytes: Uint8Array, opts: ReaderOptions, maxRead = Infinity) {
  const { bytesRead: read, ...readOutcome } = await outcome(bytes, opts, 'read', maxRead);
  const { bytesRead: skipped, ...skipOutcome } = await outcome(bytes, opts, 'skip', maxRead);
  expect(skipOutcome).toEqual(readOutcome);
  const { bytesRead: _drained, ...pipeOutcome } = await outcome(bytes, opts, 'skip', maxRead, memoryPipe);
  expect(pipeOutcome).toEqual(readOutcome);
  return { read, skipped };
}

const pageRecords = (bytes: Uint8Array, opts: ReaderOptions): RecordItem[] =>
  readStreamSync(bytes, opts)
    .readAll()
    .items.filter((i): i is RecordItem => i.kind === 'record' && i.record.body.kind === 'page-data');

describe('skip mode gives the same walk as reading every byte', () => {
  const manifest = loadManifest();
  for (const entry of manifest.fixtures) {
    it(entry.file, async () => {
      const bytes = fixtureBytes(entry);
      const maxRead = entry.origin === 'xen' ? Infinity : 61;
      for (const strict of [true, false]) {
        const { read, skipped } = await expectSameOutcome(bytes, { ...entry.options, strict }, maxRead);
        // Where there are pages to step over, skip mode did step over them.
        if (entry.memory && entry.memory.pages > 0 && entry.strict.verdict === 'valid') expect(skipped).toBeLessThan(read - PAGE_SIZE);
      }
    });
  }
});

describe('skip mode finds what is wrong in or after a PAGE_DATA record, as a full read does', () => {
  // A prefix of each real Xen stream (its first page records) and the hand-made page streams.
  const bases = loadManifest()
    .fixtures.filter((e) => e.strict.verdict === 'valid' && (e.records?.['libxc:PAGE_DATA'] ?? 0) > 0)
    .map((entry) => {
      let bytes = fixtureBytes(entry);
      const pages = pageRecords(bytes, entry.options).slice(0, 3);
      if (entry.origin === 'xen') bytes = bytes.slice(0, pages[2].offset + pages[2].length);
      return { entry, bytes, pages };
    });

  const put32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true);
  const mutate = (bytes: Uint8Array, f: (b: Uint8Array) => void) => {
    const b = bytes.slice();
    f(b);
    return b;
  };

  for (const { entry, bytes, pages } of bases) {
    it(entry.file, async () => {
      const cases: Array<[string, Uint8Array]> = [];
      for (const r of pages) {
        const o = r.offset;
        const count = (r.record.body as { count: number }).count;
        const entries = o + RECORD_HEADER_SIZE + 8;
        for (const cut of [
          o + 3,
          o + RECORD_HEADER_SIZE + 4,
          entries + 4 * count,
          entries + 8 * count,
          entries + 8 * count + 1,
          o + r.length - PAGE_SIZE,
          o + r.length - 1,
          o + r.length,
        ]) {
          cases.push([`cut at ${cut}`, bytes.slice(0, cut)]);
        }
        for (const d of [-8, -1, 1, 8, PAGE_SIZE, -PAGE_SIZE]) cases.push([`body length ${d}`, mutate(bytes, (b) => put32(b, o + 4, r.bodyLength + d))]);
        cases.push(['body length beyond EOF', mutate(bytes, (b) => put32(b, o + 4, bytes.length))]);
        for (const c of [0, count - 1, count + 1, 0x0fffffff]) cases.push([`count ${c}`, mutate(bytes, (b) => put32(b, o + RECORD_HEADER_SIZE, c))]);
        cases.push(['reserved', mutate(bytes, (b) => put32(b, o + RECORD_HEADER_SIZE + 4, 1))]);
        cases.push(['invalid type nibble in the last pfn', mutate(bytes, (b) => (b[entries + 8 * count - 1] = 0x50))]);
        cases.push(['pfn reserved bits', mutate(bytes, (b) => (b[entries + 6] |= 0x10))]);
        cases.push(['last pfn → XTAB (one page fewer)', mutate(bytes, (b) => (b[entries + 8 * count - 1] = 0xf0))]);
      }
      for (const [name, b] of cases) {
        for (const strict of [true, false]) {
          const opts = { ...entry.options, strict };
          await expectSameOutcome(b, opts, entry.origin === 'xen' ? 4099 : 61).catch((e: unknown) => {
            throw new Error(`${name}: ${(e as Error).message}`);
          });
        }
      }
    });
  }

  it('a file whose last PAGE_DATA record is cut is STREAM-TRUNCATED at the same offset, with the same message', async () => {
    const bytes = B.plainPv([[0, 1, 2, 3, 4, 5, 6, 7]]);
    const page = pageRecords(bytes, {})[0];
    const cut = bytes.slice(0, page.offset + page.length - 100);
    const dir = mkdtempSync(join(tmpdir(), 'xms-skip-'));
    try {
      const file = join(dir, 'cut.bin');
      writeFileSync(file, cut);
      const read = await verifyStream(file, { reader: { pageContents: 'read' } });
      const skip = await verifyStream(file);
      expect(skip.error).toMatchObject({ ruleId: 'STREAM-TRUNCATED', offset: cut.length });
      expect(skip.error?.message).toBe(read.error?.message);
      expect(skip.summary).toEqual(read.summary);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what is read', () => {
  // 64 records of 256 pages: 64 MiB of pages, 130 KiB of record headers and pfn arrays.
  const pfns = Array.from({ length: 64 }, (_, r) => Array.from({ length: 256 }, (_, i) => r * 256 + i));
  const bytes = B.concat([
    B.libxlHeader(),
    B.rec('libxl', 'LIBXC_CONTEXT'),
    B.imageHeader(),
    B.domainHeader(1),
    B.pvInfo(),
    B.rec('libxc', 'STATIC_DATA_END'),
    B.p2mFrames(64 * 256 - 1),
    ...pfns.map((p) => B.pageData(p)),
    B.tscInfo(),
    B.sharedInfo(),
    B.vcpuBasic(0),
    B.rec('libxc', 'END'),
    B.rec('libxl', 'END'),
  ]);

  it('verify of a regular file reads record headers and pfn arrays, not page contents', async () => {
    const file = memoryFile(bytes);
    const r = await verifyStream(file);
    expect(r.status).toBe('valid');
    expect(r.summary.pagesWithData).toBe(64 * 256);
    // Each record costs one read of at most MIN_READ (256 KiB) from its start: far less than the 64 MiB of pages.
    expect(file.bytesRead).toBeLessThan(bytes.length / 3);
  });

  it('verify with pageContents read (--deep) reads every byte', async () => {
    const file = memoryFile(bytes);
    expect((await verifyStream(file, { reader: { pageContents: 'read' } })).status).toBe('valid');
    expect(file.bytesRead).toBe(bytes.length);
  });

  it('a skipped body says so, and refuses to hand out or encode pages it does not have', async () => {
    let body: { pagesSkipped?: true; pageData: Uint8Array } | undefined;
    for await (const item of readStream(memoryFile(bytes), { pageContents: 'skip' })) {
      if (item.kind === 'record' && item.record.body.kind === 'page-data') body = item.record.body;
      if (body) break;
    }
    expect(body?.pagesSkipped).toBe(true);
    expect(body?.pageData.length).toBe(0);
    const { forEachPage } = await import('../src/codec/bodies/page-data.js');
    expect(() => forEachPage(body as never, () => {})).toThrow(/skipped/);
  });

  it('a pipe in skip mode reads every byte, but never into a buffer the size of a record', async () => {
    const pipe = memoryPipe(bytes);
    const lengths: number[] = [];
    const read = pipe.read.bind(pipe);
    pipe.read = ((buffer: Uint8Array, offset: number, length: number, position: number | null) => {
      lengths.push(length);
      return read(buffer, offset, length, position);
    }) as typeof pipe.read;
    const r = await verifyStream(pipe);
    expect(r.status).toBe('valid');
    expect(r.summary).toEqual((await outcome(bytes, {}, 'read')).summary);
    expect(pipe.bytesRead).toBe(bytes.length);
    // A record is 1 MiB of pages; reads ask for at most MIN_READ (256 KiB): pages go through a scratch buffer.
    expect(Math.max(...lengths)).toBeLessThanOrEqual(256 * 1024);
  });

  it('pipes, gzip and memory are read in full in skip mode, with the same result', async () => {
    const reference = await outcome(bytes, {}, 'read');
    for (const source of [() => Readable.from([bytes.subarray(0, 100_000), bytes.subarray(100_000)]), () => new Uint8Array(gzipSync(bytes)), () => bytes]) {
      const reader = readStream(source(), { pageContents: 'skip' });
      let pages = 0;
      for await (const item of reader)
        if (item.kind === 'record' && item.record.body.kind === 'page-data') pages += item.record.body.pageData.length / PAGE_SIZE;
      expect(pages).toBe(64 * 256);
      expect(reader.summary()).toEqual(reference.summary);
    }
  });
});
