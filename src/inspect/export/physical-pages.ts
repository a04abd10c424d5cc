/**
 * Copy a run of guest pages from the stream (through the physical-address
 * view) into an export file at a given position: the pages are read into a
 * buffer of at most a chunk and written from it by positioned writes, several
 * in flight. All-zero pages are not written: the file was sized first, so they
 * stay holes and read back as zeros (the file is sparse where its filesystem
 * allows). Memory: the chunks in flight (PositionedWrites' byte limit).
 */
import { PAGE_SIZE } from '../../format/constants.js';
import type { AtomicOutput } from '../../io/atomic-output.js';
import { PositionedWrites } from '../../writer/positioned-writes.js';
import type { PhysicalMemoryView, PhysicalRun } from '../paddr-view.js';

/** Pages read from the stream at once. */
const CHUNK_PAGES = 256;
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

/** Physical address of a pfn, exact past 2^53 (pfns reach 2^52 − 1). */
export const pfnAddress = (pfn: number): bigint => BigInt(pfn) * BigInt(PAGE_SIZE);

/** What an export wrote. */
export interface ExportSizes {
  /** Runs of pfns with data (LiME ranges, ELF PT_LOAD segments). */
  ranges: number;
  /** Pages holding data. */
  pages: number;
  fileBytes: number;
}

/** Runs and pages holding data: one pass over the view's index, before the file is laid out. */
export async function countRuns(view: PhysicalMemoryView): Promise<{ ranges: number; pages: number }> {
  let ranges = 0;
  let pages = 0;
  await view.forEachRun((run) => {
    ranges++;
    pages += run.pages;
  });
  return { ranges, pages };
}

function isZeroPage(bytes: Uint8Array, at: number): boolean {
  return Buffer.compare(bytes.subarray(at, at + PAGE_SIZE), ZERO_PAGE) === 0;
}

export class PhysicalPageCopier {
  private readonly writes = new PositionedWrites();
  /** Pages written (not left as holes). */
  pagesWritten = 0;

  constructor(
    private readonly view: PhysicalMemoryView,
    private readonly output: AtomicOutput,
  ) {}

  /** Copy `run`'s pages to `position` onwards. Resolves when the last write has started (drain() waits for them). */
  async copyRun(run: PhysicalRun, position: number): Promise<void> {
    for (let done = 0; done < run.pages; ) {
      const n = Math.min(CHUNK_PAGES, run.pages - done);
      // A fresh buffer per chunk: the writes go from it while the next chunk is read.
      const buffer = new Uint8Array(n * PAGE_SIZE);
      await this.view.readPages(run.firstPfn + done, buffer);
      await this.writeNonZero(buffer, position + done * PAGE_SIZE);
      done += n;
    }
  }

  /** Wait for every write; rejects with the first failure. */
  drain(): Promise<void> {
    return this.writes.drain();
  }

  /** Each run of non-zero pages of `buffer` as one positioned write. */
  private async writeNonZero(buffer: Uint8Array, position: number): Promise<void> {
    const pages = buffer.length / PAGE_SIZE;
    for (let i = 0; i < pages; ) {
      if (isZeroPage(buffer, i * PAGE_SIZE)) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < pages && !isZeroPage(buffer, j * PAGE_SIZE)) j++;
      const bytes = buffer.subarray(i * PAGE_SIZE, j * PAGE_SIZE);
      const at = position + i * PAGE_SIZE;
      await this.writes.write(at, bytes.length, () => this.output.writeAt(bytes, at));
      this.pagesWritten += j - i;
      i = j;
    }
  }
}
