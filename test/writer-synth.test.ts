/**
 * synth: every mode reads back with the record counts synth planned, page
 * contents are what synthPageContent / synthFinalPass predict, output is
 * deterministic; back-channel writers; the CLI command.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forEachPage, type PageDataBody } from '../src/codec/bodies/page-data.js';
import { readBackChannelSync, readStreamSync } from '../src/reader/index.js';
import { main } from '../src/cli/stream-inspect.js';
import { ColoBackChannelWriter } from '../src/writer/colo-back-channel-writer.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { PostcopyBackChannelWriter } from '../src/writer/postcopy-back-channel-writer.js';
import { parseByteSize } from '../src/writer/size.js';
import { synth, synthFinalPass, synthPassPfns, synthPasses, type SynthOptions } from '../src/writer/synth.js';
import { synthPageContent } from '../src/writer/synth-pages.js';
import { WriterGuardError, WriterStateError } from '../src/writer/writer-errors.js';

const dir = mkdtempSync(join(tmpdir(), 'writer-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(options: SynthOptions) {
  const sink = new MemorySink();
  const result = await synth(sink, options);
  const bytes = sink.bytes();
  const dialect = result.mode === 'postcopy-rfc' ? 'postcopy-rfc' : 'upstream';
  const read = readStreamSync(bytes, { dialect }).readAll();
  const counts: Record<string, number> = {};
  for (const item of read.items)
    if (item.kind === 'record') counts[`${item.layer}:${item.record.name}`] = (counts[`${item.layer}:${item.record.name}`] ?? 0) + 1;
  return { result, bytes, read, counts };
}

/** PAGE_DATA records a pass needs: ceil(pfns / batch). */
function pageRecords(options: SynthOptions): number {
  const batch = options.batch ?? 1024;
  return synthPasses(options).pagePasses.reduce((n, pass) => n + Math.ceil(synthPassPfns(options, pass).length / batch), 0);
}

const CASES: Array<{ name: string; options: SynthOptions; expect: Record<string, number> }> = [
  {
    name: 'plain PV',
    options: { kind: 'pv', pages: 1500, passes: 3, batch: 200, vcpus: 2 },
    expect: {
      'libxc:X86_PV_INFO': 1,
      'libxc:STATIC_DATA_END': 1,
      'libxc:X86_PV_P2M_FRAMES': 1,
      'libxc:SHARED_INFO': 1,
      'libxc:X86_PV_VCPU_BASIC': 2,
      'libxc:X86_PV_VCPU_EXTENDED': 2,
      'libxc:END': 1,
      'libxl:END': 1,
    },
  },
  {
    name: 'plain HVM',
    options: { kind: 'hvm', pages: 1200, passes: 2, batch: 300 },
    expect: { 'libxc:HVM_CONTEXT': 1, 'libxc:HVM_PARAMS': 1, 'libxl:EMULATOR_XENSTORE_DATA': 1, 'libxl:EMULATOR_CONTEXT': 1, 'libxc:END': 1, 'libxl:END': 1 },
  },
  { name: 'plain PVH', options: { kind: 'pvh', pages: 700, passes: 1 }, expect: { 'libxc:HVM_CONTEXT': 1, 'libxc:END': 1, 'libxl:END': 1 } },
  { name: 'xl container (PV)', options: { kind: 'pv', pages: 600, passes: 2, xl: true }, expect: { 'libxc:END': 1, 'libxl:END': 1 } },
  {
    name: 'remus (PV)',
    options: { kind: 'pv', pages: 800, passes: 2, checkpoints: 3, batch: 128 },
    expect: { 'libxc:CHECKPOINT': 3, 'libxl:CHECKPOINT_END': 3, 'libxc:X86_TSC_INFO': 3, 'libxc:SHARED_INFO': 3 },
  },
  {
    name: 'colo (HVM)',
    options: { kind: 'hvm', pages: 800, passes: 1, checkpoints: 3, colo: true },
    expect: { 'libxc:CHECKPOINT': 3, 'libxl:CHECKPOINT_END': 3, 'libxl:CHECKPOINT_STATE': 2, 'libxl:EMULATOR_CONTEXT': 3 },
  },
  {
    name: 'postcopy (HVM, RFC)',
    options: { kind: 'hvm', pages: 1000, passes: 2, postcopy: true, batch: 256 },
    expect: {
      'libxc:POSTCOPY_BEGIN': 1,
      'libxc:POSTCOPY_PFNS_BEGIN': 1,
      'libxc:POSTCOPY_PFNS': 1,
      'libxc:POSTCOPY_TRANSITION': 1,
      'libxl:POSTCOPY_TRANSITION_END': 1,
      'libxc:END': 1,
      'libxl:END': 1,
    },
  },
  {
    name: 'postcopy (PVH, RFC)',
    options: { kind: 'pvh', pages: 500, passes: 1, postcopy: true },
    expect: { 'libxc:POSTCOPY_TRANSITION': 1, 'libxl:POSTCOPY_TRANSITION_END': 1 },
  },
];

describe('synth streams read back with the expected records', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const { result, bytes, read, counts } = await run(c.options);
      expect(result.bytes).toBe(bytes.length);
      expect(counts).toEqual(result.records);
      for (const [key, n] of Object.entries(c.expect)) expect(counts[key] ?? 0, key).toBe(n);
      expect(counts['libxc:PAGE_DATA']).toBe(pageRecords(c.options));
      expect(read.problems.filter((p) => p.severity !== 'note')).toEqual([]);
      const checkpointed = (c.options.checkpoints ?? 0) > 0;
      expect(read.end.status).toBe(checkpointed ? 'failover' : 'complete');
      if (checkpointed) {
        expect(read.end.completeCheckpoints).toBe(c.options.checkpoints);
        expect(read.end.discardedRecords ?? 0).toBe(0);
      }
      expect(read.summary.mode).toBe(result.mode);
      if (c.options.xl) expect(read.items[0].kind).toBe('xl-header');
      if (result.mode === 'postcopy-rfc') {
        const pass = synthPasses(c.options).postcopyPass;
        if (pass === undefined) throw new Error('a postcopy stream has a postcopy pass');
        const set = synthPassPfns(c.options, pass).length;
        expect(counts['libxc:POSTCOPY_PAGE_DATA']).toBe(Math.ceil(set / Math.min(c.options.batch ?? 1024, 64)));
      }
    });
  }

  it('page contents are what synthFinalPass and synthPageContent predict', async () => {
    for (const options of [
      { kind: 'pv', pages: 900, passes: 3, seed: 7, batch: 100 },
      { kind: 'hvm', pages: 700, passes: 2, postcopy: true, seed: 8 },
      { kind: 'pvh', pages: 500, passes: 2, checkpoints: 3, seed: 9 },
    ] satisfies SynthOptions[]) {
      const { read } = await run(options);
      const last = new Map<number, Uint8Array>();
      const holes = new Set<number>();
      for (const item of read.items) {
        if (item.kind !== 'record' || item.record.body.kind !== 'page-data') continue;
        forEachPage(item.record.body as PageDataBody, (pfn, _type, page) => (page ? last.set(pfn, page) : holes.add(pfn)));
      }
      let expectedHoles = 0;
      for (let pfn = 0; pfn < options.pages; pfn++) {
        const pass = synthFinalPass(options, pfn);
        if (pass === undefined) {
          expectedHoles++;
          expect(last.has(pfn), `hole ${pfn}`).toBe(false);
          expect(holes.has(pfn)).toBe(true);
        } else {
          expect(Buffer.from(last.get(pfn) ?? []).equals(Buffer.from(synthPageContent(options.seed, pfn, pass))), `pfn ${pfn} pass ${pass}`).toBe(true);
        }
      }
      expect(holes.size).toBe(expectedHoles);
      expect(last.size).toBe(options.pages - expectedHoles);
    }
  });

  it('PV streams carry page-table types, pinned ones and XTAB holes', async () => {
    const { read } = await run({ kind: 'pv', pages: 4000, passes: 1 });
    const types = read.summary.pageTypes;
    for (const t of ['NOTAB', 'L1TAB', 'L2TAB', 'L1TAB_PINNED', 'L2TAB_PINNED', 'L3TAB_PINNED', 'L4TAB_PINNED', 'XTAB'])
      expect(types[t] ?? 0, t).toBeGreaterThan(0);
  });

  it('is deterministic in the seed, and later passes resend a shrinking subset', async () => {
    const options: SynthOptions = { kind: 'hvm', pages: 3000, passes: 4, seed: 42 };
    const a = await run(options);
    const b = await run(options);
    const c = await run({ ...options, seed: 43 });
    const sha = (u: Uint8Array) => createHash('sha256').update(u).digest('hex');
    expect(sha(a.bytes)).toBe(sha(b.bytes));
    expect(sha(a.bytes)).not.toBe(sha(c.bytes));
    const sizes = [0, 1, 2, 3].map((p) => synthPassPfns(options, p).length);
    expect(sizes[0]).toBe(3000);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThan(sizes[i - 1]);
  });

  it('refuses option combinations that make no stream', async () => {
    await expect(synth(new MemorySink(), { kind: 'pv', pages: 10, postcopy: true })).rejects.toThrow(/HVM-only/);
    await expect(synth(new MemorySink(), { kind: 'hvm', pages: 10, colo: true })).rejects.toThrow(/checkpoints ≥ 1/);
    await expect(synth(new MemorySink(), { kind: 'hvm', pages: 10, postcopy: true, checkpoints: 2 })).rejects.toThrow(/postcopy cannot/);
    await expect(synth(new MemorySink(), { kind: 'hvm', pages: 10, batch: 1025 })).rejects.toThrow(/batch/);
  });
});

describe('back-channel writers', () => {
  it('COLO: SVM_READY, SVM_RESUMED, SVM_SUSPENDED, dirty pfn list, in that order', async () => {
    const sink = new MemorySink();
    const w = new ColoBackChannelWriter(sink);
    await expect(w.writeSvmResumed()).rejects.toBeInstanceOf(WriterStateError);
    await expect(w.writeCheckpointState(0)).rejects.toThrow(/forward stream/);
    await expect(w.writeDirtyPfnList([1])).rejects.toThrow(/allowed here: CHECKPOINT_STATE\(2 SVM_READY\), close/);
    expect(sink.bytesWritten).toBe(0);
    for (let round = 0; round < 2; round++) {
      await w.writeSvmReady();
      await w.writeSvmResumed();
      await w.writeSvmSuspended();
      await w.writeDirtyPfnList(round === 0 ? [0x10, 0x11] : []);
    }
    await w.close();
    const { items, problems } = readBackChannelSync(sink.bytes(), { channel: 'colo' }).readAll();
    expect(problems.filter((p) => p.severity !== 'note')).toEqual([]);
    const names = items.flatMap((i) => (i.kind === 'record' ? [i.record.name] : []));
    expect(names).toEqual(Array(2).fill(['CHECKPOINT_STATE', 'CHECKPOINT_STATE', 'CHECKPOINT_STATE', 'CHECKPOINT_DIRTY_PFN_LIST']).flat());
    expect(Buffer.from(sink.bytes().subarray(0, 16)).toString('hex')).toBe('05000000040000000200000000000000');
  });

  it('postcopy: POSTCOPY_FAULT* then POSTCOPY_COMPLETE', async () => {
    const sink = new MemorySink();
    const w = new PostcopyBackChannelWriter(sink);
    await expect(w.writeFault([])).rejects.toBeInstanceOf(WriterGuardError);
    await w.writeFault([0x1234, 0x1235]);
    await w.writeComplete();
    await expect(w.writeFault([1])).rejects.toThrow(/state COMPLETE/);
    await w.close();
    expect(Buffer.from(sink.bytes().subarray(0, 32)).toString('hex')).toBe('1500000018000000020000000000000034120000000000003512000000000000');
    const { items } = readBackChannelSync(sink.bytes(), { channel: 'postcopy' }).readAll();
    expect(items.flatMap((i) => (i.kind === 'record' ? [i.record.name] : []))).toEqual(['POSTCOPY_FAULT', 'POSTCOPY_COMPLETE']);
  });
});

describe('stream-inspect synth', () => {
  it('writes the file it is asked for (--size picks --pages)', async () => {
    const out = join(dir, 'cli.bin');
    const code = await main(['synth', '--kind', 'pv', '--size', '2M', '--passes', '2', '--xl', '--batch', '100', '--seed', '5', '-o', out, '-q']);
    expect(code).toBe(0);
    const expected = new MemorySink();
    await synth(expected, { kind: 'pv', pages: 512, passes: 2, xl: true, batch: 100, seed: 5 });
    expect(Buffer.from(readFileSync(out)).equals(Buffer.from(expected.bytes()))).toBe(true);
  });

  it('reports bad command lines and impossible streams as usage errors (status 2)', async () => {
    expect(await main(['synth', '--pages', '10', '--size', '1M', '-o', join(dir, 'x')])).toBe(2);
    expect(await main(['synth', '--kind', 'pv', '--postcopy', '-o', join(dir, 'y')])).toBe(2);
  });

  it('parses sizes', () => {
    expect(parseByteSize('256M')).toBe(256 * 2 ** 20);
    expect(parseByteSize('1G')).toBe(2 ** 30);
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize('1.5KiB')).toBe(1536);
    expect(() => parseByteSize('lots')).toThrow(RangeError);
  });
});
