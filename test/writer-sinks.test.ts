/**
 * Sinks: the atomic file sink leaves nothing under the final name unless the
 * stream ended; the Writable sink honours backpressure and hands each record
 * over as separate chunks without copying page data.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readStreamSync } from '../src/reader/index.js';
import { FileSink } from '../src/writer/file-sink.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { StreamWriter } from '../src/writer/stream-writer.js';
import { synth } from '../src/writer/synth.js';
import { WritableSink } from '../src/writer/writable-sink.js';
import { PAGE_TYPE } from '../src/format/page-types.js';
import { legalPath, pagesFor } from './support/writer-paths.js';

const dir = mkdtempSync(join(tmpdir(), 'writer-sinks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FileSink', () => {
  it('renames into place only after end() succeeds', async () => {
    const path = join(dir, 'ok.bin');
    const sink = await FileSink.create(path);
    const w = new StreamWriter(sink, { mode: 'plain', guest: 'pv' });
    const steps = legalPath('plain', 'pv', true);
    for (const s of steps.slice(0, -1)) await s.run(w);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(sink.tempPath)).toBe(true);
    await steps[steps.length - 1].run(w);
    expect(existsSync(path)).toBe(true);
    expect(existsSync(sink.tempPath)).toBe(false);
    const bytes = new Uint8Array(readFileSync(path));
    expect(bytes.length).toBe(w.bytesWritten);
    expect(readStreamSync(bytes).readAll().end.status).toBe('complete');
  });

  it('an aborted writer leaves no file under the final name and no temporary file', async () => {
    const path = join(dir, 'aborted.bin');
    const sink = await FileSink.create(path);
    const w = new StreamWriter(sink, { mode: 'plain', guest: 'hvm' });
    for (const s of legalPath('plain', 'hvm', false).slice(0, 6)) await s.run(w);
    expect(w.bytesWritten).toBeGreaterThan(0);
    await w.abort();
    expect(w.state).toBe('ABORTED');
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('aborted'))).toEqual([]);
    await expect(w.end()).rejects.toThrow(/state ABORTED/);
  });

  it('a failed synth leaves an existing file under the final name untouched', async () => {
    const path = join(dir, 'existing.bin');
    writeFileSync(path, 'old contents');
    const sink = await FileSink.create(path);
    await expect(synth(sink, { kind: 'pv', pages: 64, batch: 4096 })).rejects.toThrow(/batch must be/);
    expect(readFileSync(path, 'utf8')).toBe('old contents');
    expect(readdirSync(dir).filter((f) => f.includes('existing') && f.endsWith('.partial'))).toEqual([]);
  });

  it('inFlight > 1: several records in flight at once, the same bytes as one at a time', async () => {
    const options = { kind: 'hvm' as const, pages: 3000, passes: 3, batch: 100, seed: 5 };
    const one = join(dir, 'one.bin');
    await synth(await FileSink.create(one), options);
    const many = join(dir, 'many.bin');
    const sink = await FileSink.create(many, { inFlight: 3, inFlightBytes: 1 << 20 });
    // Count the positioned writes running at once (the handle is the sink's own).
    const handle = (sink as unknown as { handle: { writev: (...a: unknown[]) => Promise<unknown> } }).handle;
    const writev = handle.writev.bind(handle);
    let running = 0;
    let most = 0;
    handle.writev = async (...a: unknown[]) => {
      most = Math.max(most, ++running);
      try {
        return await writev(...a);
      } finally {
        running--;
      }
    };
    const r = await synth(sink, options);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(3);
    expect(readFileSync(many).equals(readFileSync(one))).toBe(true);
    expect(r.bytes).toBe(readFileSync(many).length);
  });

  it('inFlight > 1: a write that fails in flight fails the writer and leaves no file', async () => {
    const path = join(dir, 'failing.bin');
    const sink = await FileSink.create(path, { inFlight: 4 });
    const handle = (sink as unknown as { handle: { writev: (...a: unknown[]) => Promise<unknown> } }).handle;
    const writev = handle.writev.bind(handle);
    let calls = 0;
    handle.writev = (...a: unknown[]) => (++calls === 20 ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })) : writev(...a));
    await expect(synth(sink, { kind: 'pv', pages: 5000, batch: 64 })).rejects.toThrow('ENOSPC');
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('failing'))).toEqual([]);
  });
});

/** A Writable that takes one chunk list per tick and records how much was buffered at each write. */
class SlowWritable extends Writable {
  readonly calls: Uint8Array[][] = [];
  maxBuffered = 0;
  total = 0;

  constructor(highWaterMark: number) {
    super({ highWaterMark });
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    this.calls.push(chunks.map((c) => c.chunk));
    for (const c of chunks) this.total += c.chunk.length;
    setImmediate(callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }
}

describe('WritableSink', () => {
  it('waits for each record to be taken and for drain: the Writable never holds more than one record', async () => {
    const out = new SlowWritable(64 * 1024);
    let drains = 0;
    out.on('drain', () => drains++);
    const result = await synth(new WritableSink(out), { kind: 'pv', pages: 2048, passes: 2, batch: 64 });
    expect(out.total).toBe(result.bytes);
    expect(drains).toBeGreaterThan(10);
    // Without backpressure the whole ~10 MB stream would pile up in the Writable's buffer.
    expect(out.maxBuffered).toBeLessThanOrEqual(64 * 4096 + 4096);
    expect(result.bytes).toBeGreaterThan(8 * 1024 * 1024);
  });

  it('hands header, pfn array and page views over as separate chunks of one vectored write, without copying pages', async () => {
    const out = new SlowWritable(1 << 20);
    const w = new StreamWriter(new WritableSink(out), { mode: 'plain', guest: 'hvm' });
    await w.writeLibxlHeader();
    await w.beginLibxc();
    await w.writeStaticDataEnd();
    const pages = pagesFor(2);
    await w.writePages([7, 8, 9], [PAGE_TYPE.NOTAB, PAGE_TYPE.XTAB, PAGE_TYPE.NOTAB], pages);
    // Each write resolves once the Writable took the record: the last _writev is exactly the PAGE_DATA record.
    const last = out.calls[out.calls.length - 1];
    expect(last.map((c) => c.length)).toEqual([8, 8 + 3 * 8, 2 * 4096]);
    expect(last[2].buffer).toBe(pages.buffer); // a view of the caller's memory, not a copy
    expect(out.calls.every((call) => call.length > 0)).toBe(true);
    expect(w.state).toBe('MEMORY');
  });

  it('a failing output aborts the writer and surfaces the error', async () => {
    const out = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('disk on fire'));
      },
    });
    const w = new StreamWriter(new WritableSink(out), { mode: 'plain', guest: 'pv' });
    await w.writeLibxlHeader().catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    await expect(w.writeLibxcContext()).rejects.toThrow(/disk on fire|state ABORTED/);
    expect(w.state).toBe('ABORTED');
  });
});

describe('MemorySink', () => {
  it('collects chunks and concatenates on request; copy mode detaches from the caller', async () => {
    const views = new MemorySink();
    const copies = new MemorySink({ copy: true });
    const data = new Uint8Array([1, 2, 3, 4]);
    await views.write([data]);
    await copies.write([data]);
    data[0] = 9;
    expect([...views.bytes()]).toEqual([9, 2, 3, 4]);
    expect([...copies.bytes()]).toEqual([1, 2, 3, 4]);
    await views.close();
    await expect(views.write([data])).rejects.toThrow(/closed/);
  });
});
