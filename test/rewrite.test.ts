/**
 * rewrite (src/rewrite): --batch and --flatten on small synthetic streams, checked with the reader:
 * plain output, one pass, every pfn once with its last contents and type, the xl header byte for byte,
 * the state of the last complete checkpoint, and no output at all for an invalid input.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachPage } from '../src/codec/bodies/page-data.js';
import { StreamFormatError } from '../src/codec/errors.js';
import { InspectArgumentError } from '../src/inspect/argument-error.js';
import { readStreamSync, type RecordItem, type StreamItem } from '../src/reader/index.js';
import { rewriteStream } from '../src/rewrite/rewrite.js';
import { PfnLastCopyIndex } from '../src/rewrite/pfn-last-copy.js';
import { scanStream } from '../src/rewrite/scan.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { synth, type SynthOptions } from '../src/writer/synth.js';
import { postcopy } from './support/build.js';
import { decodeXlHeader, encodeXlHeader } from '../src/codec/headers.js';
import { StreamWriter } from '../src/writer/stream-writer.js';
import { WriterGuardError } from '../src/writer/writer-errors.js';

async function synthBytes(options: SynthOptions): Promise<Uint8Array> {
  const sink = new MemorySink({ copy: true });
  await synth(sink, options);
  return sink.bytes();
}

async function rewriteToBytes(input: Uint8Array, options: Parameters<typeof rewriteStream>[2] = {}) {
  const sink = new MemorySink({ copy: true });
  const result = await rewriteStream(input, sink, options);
  return { bytes: sink.bytes(), result };
}

const records = (items: StreamItem[]) => items.filter((i): i is RecordItem => i.kind === 'record');
const names = (items: StreamItem[]) => records(items).map((r) => `${r.layer}:${r.record.name}`);

/** pfn → [type, page bytes or undefined] of its last copy, among records of checkpoints ≤ `upTo`. */
function lastCopies(items: StreamItem[], upTo = Infinity): Map<number, [number, Buffer | undefined]> {
  const m = new Map<number, [number, Buffer | undefined]>();
  for (const r of records(items)) {
    if ((r.checkpoint ?? 1) > upTo || r.record.body.kind !== 'page-data') continue;
    forEachPage(r.record.body, (pfn, type, page) => m.set(pfn, [type, page ? Buffer.from(page) : undefined]));
  }
  return m;
}

/** Check a flat output: plain, one pass, each pfn once and ascending, contents/types = `want`. */
function expectFlat(out: Uint8Array, want: Map<number, [number, Buffer | undefined]>, batch = 1024): StreamItem[] {
  const r = readStreamSync(out).readAll();
  expect(r.end.status).toBe('complete');
  expect(r.summary.mode).toBe('plain');
  expect(r.summary.passes).toHaveLength(1);
  expect(r.summary.resentPfns).toBe(0);
  expect(r.summary.distinctPfns).toBe(want.size);
  const seen: number[] = [];
  for (const rec of records(r.items)) {
    if (rec.record.body.kind !== 'page-data') continue;
    expect(rec.record.body.pfns.length).toBeLessThanOrEqual(batch);
    forEachPage(rec.record.body, (pfn, type, page) => {
      seen.push(pfn);
      const w = want.get(pfn);
      if (!w) throw new Error(`pfn ${pfn} was never sent in the input`);
      if (w[0] !== type) throw new Error(`pfn ${pfn}: type ${type}, expected ${w[0]}`);
      if ((w[1] === undefined) !== (page === undefined) || (page && Buffer.compare(Buffer.from(page), w[1] as Buffer) !== 0)) {
        throw new Error(`pfn ${pfn}: contents are not those of its last copy`);
      }
    });
  }
  expect(seen).toEqual([...want.keys()].sort((a, b) => a - b));
  return r.items;
}

function xlHeaderBytes(bytes: Uint8Array): Buffer {
  const first = readStreamSync(bytes).readAll().items[0];
  expect(first.kind).toBe('xl-header');
  return Buffer.from(bytes.subarray(0, first.length));
}

const tsc = (items: StreamItem[]) =>
  records(items)
    .filter((r) => r.record.name === 'X86_TSC_INFO')
    .map((r) => (r.record.body.kind === 'tsc-info' ? r.record.body.nsec : -1n));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rewrite-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rewrite --batch', () => {
  it('keeping the input batching reproduces a synth stream byte for byte (everything went through the writer)', async () => {
    for (const kind of ['pv', 'hvm', 'pvh'] as const) {
      const input = await synthBytes({ kind, pages: 700, passes: 2, xl: true, batch: 128, vcpus: 2 });
      const { bytes } = await rewriteToBytes(input);
      expect(Buffer.compare(Buffer.from(bytes), Buffer.from(input))).toBe(0);
    }
  });

  it('re-batches PAGE_DATA to N pfns per record, passes kept, pages and types unchanged in order', async () => {
    const input = await synthBytes({ kind: 'pv', pages: 1000, passes: 3, xl: true, batch: 1024 });
    const { bytes, result } = await rewriteToBytes(input, { batch: 7 });
    const inp = readStreamSync(input).readAll();
    const out = readStreamSync(bytes).readAll();
    expect(out.end.status).toBe('complete');
    const sizes = records(out.items).flatMap((r) => (r.record.body.kind === 'page-data' ? [r.record.body.pfns.length] : []));
    expect(Math.max(...sizes)).toBe(7);
    // a pass boundary starts a new record: per pass ceil(n/7) records
    const expected = inp.summary.passes.reduce((a, p) => a + Math.ceil(p.pfns / 7), 0);
    expect(sizes).toHaveLength(expected);
    expect(out.summary.passes.map((p) => p.pfns)).toEqual(inp.summary.passes.map((p) => p.pfns));
    // same entries, same order, same page bytes
    const entries = (items: StreamItem[]) => {
      const e: string[] = [];
      for (const r of records(items))
        if (r.record.body.kind === 'page-data')
          forEachPage(r.record.body, (pfn, t, page) =>
            e.push(`${pfn}/${t}/${page ? Buffer.from(page).toString('base64').slice(0, 24) + Buffer.from(page.subarray(4000)).toString('hex') : '-'}`),
          );
      return e;
    };
    expect(entries(out.items)).toEqual(entries(inp.items));
    expect(xlHeaderBytes(bytes)).toEqual(xlHeaderBytes(input));
    // the other records unchanged
    const nonPage = (items: StreamItem[]) => names(items).filter((n) => n !== 'libxc:PAGE_DATA');
    expect(nonPage(out.items)).toEqual(nonPage(inp.items));
    expect(result.outputRecords['libxc:PAGE_DATA']).toBe(expected);
    expect(result.passes).toBe(2);
  });

  it('a Remus stream stays a Remus stream with its checkpoints; COLO keeps CHECKPOINT_STATE', async () => {
    for (const colo of [false, true]) {
      const input = await synthBytes({ kind: 'hvm', pages: 300, checkpoints: 3, colo, xl: true, batch: 64 });
      const { bytes, result } = await rewriteToBytes(input, { batch: 50 });
      const out = readStreamSync(bytes).readAll();
      expect(out.end).toMatchObject({ status: 'failover', completeCheckpoints: 3, discardedBytes: 0 });
      expect(result.outputMode).toBe(colo ? 'colo' : 'remus');
      expect(names(out.items).filter((n) => n === 'libxl:CHECKPOINT_END')).toHaveLength(3);
      expect(names(out.items).filter((n) => n === 'libxl:CHECKPOINT_STATE')).toHaveLength(colo ? 2 : 0);
    }
  });

  it('rejects a batch outside 1…1024 before reading anything', async () => {
    for (const batch of [0, 1025, 2.5]) {
      await expect(rewriteStream(join(dir, 'does-not-exist'), join(dir, 'x.bin'), { batch })).rejects.toBeInstanceOf(InspectArgumentError);
    }
  });

  it('refuses postcopy (RFC) streams clearly instead of writing something else', async () => {
    const sink = new MemorySink();
    await expect(rewriteStream(postcopy(), sink, { reader: { dialect: 'postcopy-rfc' } })).rejects.toThrow(/does not handle postcopy/);
    expect(sink.bytesWritten).toBe(0);
  });
});

describe('rewrite --flatten', () => {
  it.each(['pv', 'hvm', 'pvh'] as const)('a %s live migration (4 passes) becomes one pass: every pfn once with its last contents and type', async (kind) => {
    const input = await synthBytes({ kind, pages: 1500, passes: 4, xl: true, batch: 256 });
    const inp = readStreamSync(input).readAll();
    expect(inp.summary.passes.length).toBe(4);
    expect(inp.summary.resentPfns).toBeGreaterThan(0);
    const { bytes, result } = await rewriteToBytes(input, { flatten: true, batch: 100 });
    const items = expectFlat(bytes, lastCopies(inp.items), 100);
    expect(xlHeaderBytes(bytes)).toEqual(xlHeaderBytes(input));
    // XTAB holes (hvm/pvh) are kept as entries without data
    expect(readStreamSync(bytes).readAll().summary.pageTypes.XTAB ?? 0).toBe(inp.summary.pageTypes.XTAB ?? 0);
    if (kind !== 'pv') expect(inp.summary.pageTypes.XTAB).toBeGreaterThan(0);
    const n = names(items);
    expect(n.filter((x) => x === 'libxc:PAGE_DATA')).toHaveLength(Math.ceil(inp.summary.distinctPfns / 100));
    expect(n.slice(-2)).toEqual(kind === 'hvm' ? ['libxl:EMULATOR_CONTEXT', 'libxl:END'] : ['libxc:END', 'libxl:END']);
    const nonPage = (x: string[]) => x.filter((y) => y !== 'libxc:PAGE_DATA');
    expect(nonPage(n)).toEqual(nonPage(names(inp.items)));
    expect(result).toMatchObject({ outputMode: 'plain', guest: kind, passesIn: 4, pageEntriesOut: inp.summary.distinctPfns, passes: 2 });
  });

  it('a Remus stream becomes a plain save with the state of its last checkpoint', async () => {
    const input = await synthBytes({ kind: 'pv', pages: 600, passes: 2, checkpoints: 4, xl: true, batch: 128, vcpus: 2 });
    const inp = readStreamSync(input).readAll();
    const { bytes, result } = await rewriteToBytes(input, { flatten: true });
    const items = expectFlat(bytes, lastCopies(inp.items));
    expect(tsc(items)).toEqual([tsc(inp.items).at(-1)]);
    const n = names(items);
    expect(n).not.toContain('libxc:CHECKPOINT');
    expect(n.filter((x) => x === 'libxc:X86_PV_VCPU_BASIC')).toHaveLength(2);
    expect(n.slice(-2)).toEqual(['libxc:END', 'libxl:END']);
    expect(result.checkpoint).toBe(4);
  });

  it('a checkpointed stream cut inside its last checkpoint gives the state of the last complete one', async () => {
    for (const colo of [false, true]) {
      const full = await synthBytes({ kind: 'hvm', pages: 800, checkpoints: 3, colo, xl: true, batch: 64 });
      const fullItems = readStreamSync(full).readAll().items;
      // cut in the middle of checkpoint 3's second PAGE_DATA record
      const cp3 = records(fullItems).filter((r) => r.checkpoint === 3 && r.record.name === 'PAGE_DATA');
      expect(cp3.length).toBeGreaterThan(0);
      const cutAt = cp3[Math.min(1, cp3.length - 1)].offset + 100;
      const input = full.subarray(0, cutAt);
      const inp = readStreamSync(input).readAll();
      expect(inp.end).toMatchObject({ status: 'failover', completeCheckpoints: 2 });
      const want = lastCopies(fullItems, 2);
      expect(want).not.toEqual(lastCopies(inp.items)); // checkpoint 3 had changed pages before the cut
      const { bytes, result } = await rewriteToBytes(input, { flatten: true });
      const items = expectFlat(bytes, want);
      expect(tsc(items)).toEqual([tsc(fullItems)[1]]);
      const emu = (xs: StreamItem[]) =>
        records(xs)
          .filter((r) => r.record.name === 'EMULATOR_CONTEXT')
          .map((r) => Buffer.from((r.record.body as { blob: Uint8Array }).blob).toString('hex'));
      expect(emu(items)).toEqual([emu(fullItems)[1]]);
      expect(result.checkpoint).toBe(2);
      expect(result.notes.join('\n')).toMatch(/incomplete checkpoint after checkpoint 2/);
      // without --flatten: the checkpointed stream up to the last complete checkpoint, nothing after it
      const through = await rewriteToBytes(input);
      const t = readStreamSync(through.bytes).readAll();
      expect(t.end).toMatchObject({ status: 'failover', completeCheckpoints: 2, discardedBytes: 0 });
      expect(Buffer.compare(Buffer.from(through.bytes), Buffer.from(full.subarray(0, inp.end.streamEnd)))).toBe(0);
    }
  });

  it('drops bytes after libxl END with a note naming the go message', async () => {
    const go = Buffer.from('domain is yours, you are cleared to unpause\0', 'latin1');
    const base = await synthBytes({ kind: 'pv', pages: 200, passes: 2, xl: true });
    const { bytes, result } = await rewriteToBytes(Buffer.concat([base, go]), { flatten: true });
    expect(readStreamSync(bytes).readAll().end.trailingBytes).toBeUndefined();
    expect(result.notes.join('\n')).toMatch(/44 bytes after libxl END: xl migrate's go message/);
  });

  it('from a pipe: refuses without --temp (clearly, before writing), works with one and removes it', async () => {
    const input = await synthBytes({ kind: 'pvh', pages: 400, passes: 3, xl: true });
    const out = join(dir, 'pipe-out.bin');
    await expect(rewriteStream(Readable.from([gzipSync(input)]), out, { flatten: true })).rejects.toThrow(/seekable file, or --temp FILE/);
    expect(readdirSync(dir)).toEqual([]);
    const temp = join(dir, 'spool.bin');
    const r = await rewriteStream(Readable.from([gzipSync(input)]), out, { flatten: true, temp });
    expect(r.spooledTo).toBe(temp);
    expectFlat(readFileSync(out), lastCopies(readStreamSync(input).readAll().items));
    expect(readdirSync(dir)).toEqual(['pipe-out.bin']);
    rmSync(out);
  });

  it('a gzip file is decompressed to a temporary file for the second pass (removed afterwards)', async () => {
    const input = await synthBytes({ kind: 'pv', pages: 300, passes: 3, xl: true });
    const gz = join(dir, 'in.bin.gz');
    writeFileSync(gz, gzipSync(input));
    const out = join(dir, 'flat.bin');
    const r = await rewriteStream(gz, out, { flatten: true, batch: 64 });
    expect(r.spooledTo).toMatch(/xen-rewrite-/);
    expect(readdirSync(tmpdir()).filter((f) => r.spooledTo?.endsWith(f))).toEqual([]);
    expectFlat(readFileSync(out), lastCopies(readStreamSync(input).readAll().items), 64);
    rmSync(gz);
    rmSync(out);
  });
});

describe('rewrite never corrupts silently', () => {
  it.each([false, true])("truncated or corrupt input (flatten %s): the reader's typed error, no output file", async (flatten) => {
    const input = await synthBytes({ kind: 'pv', pages: 300, passes: 2, xl: true });
    const bad = [
      input.subarray(0, input.length - 5000), // cut inside a record
      (() => {
        const b = Buffer.from(input);
        const recs = records(readStreamSync(input).readAll().items).filter((r) => r.record.name === 'PAGE_DATA');
        b.writeUInt32LE(0x50000000, recs[1].offset + 16 + 4); // a reserved page type nibble (5) in pfn[0]
        return b;
      })(),
    ];
    for (const [i, bytes] of bad.entries()) {
      const path = join(dir, `bad${i}.bin`);
      writeFileSync(path, bytes);
      const out = join(dir, 'out.bin');
      await expect(rewriteStream(path, out, { flatten })).rejects.toBeInstanceOf(StreamFormatError);
      // a single pass from a pipe fails the same way, after having started writing: the output is removed
      if (!flatten) await expect(rewriteStream(Readable.from([bytes]), out)).rejects.toBeInstanceOf(StreamFormatError);
      rmSync(path);
      expect(readdirSync(dir)).toEqual([]);
    }
  });
});

describe('rewrite --flatten memory', () => {
  it('the index holds 9 bytes per pfn of the guest (in 4096-pfn chunks), however many times pages were resent', async () => {
    const pages = 20_000;
    const input = await synthBytes({ kind: 'pv', pages, passes: 6, xl: true });
    const scan = await scanStream(input, { flatten: true });
    expect(scan.summary.pageEntries).toBeGreaterThan(pages);
    expect(scan.index?.size).toBe(pages);
    expect(scan.index?.bytesHeld).toBe(Math.ceil(pages / 4096) * 4096 * 9);
    expect(scan.index?.pendingUpdates).toBe(0); // a plain stream logs nothing for rollback
  });
});

describe('PfnLastCopyIndex', () => {
  it('keeps the last copy, iterates ascending over sparse pfns, rolls back an open checkpoint', async () => {
    const ix = new PfnLastCopyIndex();
    const big = 2 ** 40 + 5;
    ix.set(big, 0, 100);
    ix.set(3, 1, 200);
    ix.set(3, 2, 300);
    ix.commit();
    ix.set(3, 0xf, -1, true);
    ix.set(7, 0, 400, true);
    expect(ix.size).toBe(3);
    const seen: Array<[number, number, number]> = [];
    await ix.forEachAscending((p, t, o) => void seen.push([p, t, o]));
    expect(seen).toEqual([
      [3, 0xf, -1],
      [7, 0, 400],
      [big, 0, 100],
    ]);
    expect(ix.rollback()).toBe(2);
    expect(ix.size).toBe(2);
    expect(ix.get(3)).toEqual({ type: 2, offset: 300 });
    expect(ix.get(7)).toBeUndefined();
    expect(ix.bytesHeld).toBe(2 * 4096 * 9); // two chunks of 4096 pfns, 9 bytes each
  });
});

describe('StreamWriter.writeXlHeader({ header }) (the option rewrite added to the writer)', () => {
  const decoded = (h: Parameters<typeof encodeXlHeader>[0]) => decodeXlHeader(encodeXlHeader(h)).header;

  it('writes a decoded header exactly: config without a NUL, invalid UTF-8, an optional tail, other flags', async () => {
    const header = decoded({
      byteOrder: 'little',
      mandatoryFlags: 0x3,
      optionalFlags: 0x5,
      config: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      optionalTail: new Uint8Array([1, 2, 3]),
    });
    const sink = new MemorySink({ copy: true });
    const w = new StreamWriter(sink, { mode: 'plain', guest: 'pv' });
    await w.writeXlHeader({ header });
    expect(Buffer.from(sink.bytes())).toEqual(Buffer.from(encodeXlHeader(header)));
    expect(w.state).toBe('LIBXL_HDR');
  });

  it('refuses a header without STREAMv2, and header together with config (nothing written)', async () => {
    const sink = new MemorySink();
    const w = new StreamWriter(sink, { mode: 'plain', guest: 'pv' });
    const legacy = {
      byteOrder: 'little' as const,
      mandatoryFlags: 0x1,
      optionalFlags: 0,
      config: new Uint8Array([0x7b, 0x7d, 0]),
      optionalTail: new Uint8Array(0),
    };
    await expect(w.writeXlHeader({ header: legacy })).rejects.toBeInstanceOf(WriterGuardError);
    await expect(w.writeXlHeader({ header: { ...legacy, mandatoryFlags: 3 }, config: '{}' })).rejects.toBeInstanceOf(WriterGuardError);
    expect(sink.bytesWritten).toBe(0);
    expect(w.state).toBe('START');
  });
});
