/** The physical-address view: where each pfn's last copy lies, reads of guest-physical bytes in place, equal to extract's raw image. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhysicalMemoryView, type PhysicalRun } from '../src/inspect/paddr-view.js';
import { renderPhysical } from '../src/inspect/paddr-hexdump.js';
import { expectedImage, hvmWithEmulator, multiPassPv, PAGE, postcopyRfc, remusWithPartialCheckpoint, type BuiltStream } from './support/cli-streams.js';
import { runsOf } from './support/memory-runs.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'paddr-view-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function viewRuns(view: PhysicalMemoryView): Promise<PhysicalRun[]> {
  const runs: PhysicalRun[] = [];
  await view.forEachRun((r) => {
    runs.push({ ...r });
  });
  return runs;
}

/** Every page the view reads equals the stream's final memory (zeros where it has none), and the runs are its pfns'. */
async function expectMemory(view: PhysicalMemoryView, memory: Map<number, Uint8Array>, maxPfn: number): Promise<void> {
  expect(await viewRuns(view)).toEqual(runsOf(memory));
  for (let pfn = 0; pfn <= maxPfn; pfn++) expect(view.pageOffset(pfn) !== undefined, `pfn ${pfn}`).toBe(memory.has(pfn));
  for (const [pfn, page] of memory) expect(Buffer.compare(await view.read(pfn * PAGE, PAGE), page), `pfn ${pfn}`).toBe(0);
  // One read over the first 64 pages (a sparse guest's span is too big to compare whole): pages with and without data.
  const span = Math.min(maxPfn + 1, 64);
  const image = expectedImage(new Map([...memory].filter(([pfn]) => pfn < span)), span - 1);
  expect(Buffer.compare(await view.read(0, span * PAGE), image)).toBe(0);
}

describe('PhysicalMemoryView', () => {
  it('a multi-pass stream: the last copy of each pfn, pages that went away read as zeros', async () => {
    const s = multiPassPv();
    const view = await PhysicalMemoryView.open(s.bytes);
    try {
      await expectMemory(view, s.memory, 63);
      // The offset is where the page's bytes are in the stream.
      const at = view.pageOffset(9) as number;
      expect(Buffer.compare(s.bytes.subarray(at, at + PAGE), s.memory.get(9) as Uint8Array)).toBe(0);
      // A read across a page boundary, not page aligned.
      const image = expectedImage(s.memory, 63);
      expect(Buffer.compare(await view.read(9 * PAGE + 4000, 300), image.subarray(9 * PAGE + 4000, 9 * PAGE + 4300))).toBe(0);
      expect(view.pageType(10)).toBe(0xf); // last sent as XTAB
      expect(view.pageOffset(10)).toBeUndefined();
    } finally {
      await view.close();
    }
  });

  it('a Remus stream ending in a partial checkpoint: the state of the last complete one', async () => {
    const s = remusWithPartialCheckpoint();
    const view = await PhysicalMemoryView.open(s.bytes);
    try {
      await expectMemory(view, s.memoryAtCheckpoint2, s.maxPfnAtCheckpoint2);
      expect(view.scan.stateCheckpoint).toBe(2);
    } finally {
      await view.close();
    }
  });

  it('postcopy pages and a sparse HVM pfn space', async () => {
    const cases: [BuiltStream, 'postcopy-rfc' | 'upstream'][] = [
      [postcopyRfc(), 'postcopy-rfc'],
      [hvmWithEmulator(), 'upstream'],
    ];
    for (const [s, dialect] of cases) {
      const view = await PhysicalMemoryView.open(s.bytes, { reader: { dialect } });
      try {
        await expectMemory(view, s.memory, Math.max(...s.memory.keys()));
      } finally {
        await view.close();
      }
    }
  });

  it('a gzip file and a pipe are read through a scratch copy that close() removes', async () => {
    const s = multiPassPv();
    const gz = join(dir, 'multi.bin.gz');
    writeFileSync(gz, gzipSync(s.bytes));
    for (const source of [gz, Readable.from([Buffer.from(s.bytes)])]) {
      const view = await PhysicalMemoryView.open(source, { spoolDir: dir });
      const spool = view.spooledTo as string;
      expect(spool.startsWith(dir)).toBe(true);
      expect(existsSync(spool)).toBe(true);
      await expectMemory(view, s.memory, 63);
      await view.close();
      expect(existsSync(spool)).toBe(false);
    }
  });

  it('renders guest-physical hex with each page marked (stream offset, or no data)', async () => {
    const s = multiPassPv();
    const view = await PhysicalMemoryView.open(s.bytes);
    try {
      const text = await renderPhysical(view, 9 * PAGE + 4088, 16);
      expect(text).toContain(`-- pfn 0x9: NOTAB, page data at stream offset 0x${(view.pageOffset(9) as number).toString(16).padStart(8, '0')}`);
      expect(text).toContain('-- pfn 0xa: last sent as XTAB: no data (zeros shown)');
      expect(text).toContain(`0x${(9 * PAGE + 4088).toString(16).padStart(8, '0')}  `);
      expect(text).toContain('-- pfn 0xa: ');
      expect(await renderPhysical(view, 62 * PAGE, 1)).toContain('never sent: no data');
    } finally {
      await view.close();
    }
  });
});
