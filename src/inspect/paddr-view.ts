/**
 * A guest's physical memory read in place from its stream, without extracting
 * it: for every pfn, where in the (decompressed) stream the 4096 bytes of its
 * last copy lie, and reads of guest-physical bytes from there. The state is the
 * one `extract` writes: the last copy of each pfn wins; for a checkpointed
 * stream, the last complete checkpoint (an incomplete one is rolled back).
 *
 * Building it is one walk of the stream with page contents skipped (rewrite's
 * scan pass, which also keeps the headers and the last complete checkpoint's
 * state records: vCPU contexts, HVM_CONTEXT). Reads are positional, so a gzip
 * file or a pipe is first decompressed/copied to a 0600 scratch file (in
 * `spoolDir`), which close() removes. Memory: the index, ≈ 9 bytes per pfn of
 * every 4096-pfn chunk the stream touched.
 */
import { tmpdir } from 'node:os';
import { PAGE_SIZE } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import type { ReaderOptions } from '../reader/decoder.js';
import type { StreamSource } from '../reader/sources.js';
import { prepareInput, type PageReader, type PreparedInput } from '../rewrite/input.js';
import { scanStream, type ScanResult } from '../rewrite/scan.js';
import type { PfnLastCopyIndex } from '../rewrite/pfn-last-copy.js';

export interface PhysicalViewOptions {
  reader?: ReaderOptions | undefined;
  /** Where a gzip or piped input is decompressed/copied for positional reads (default os.tmpdir()). */
  spoolDir?: string | undefined;
  onProgress?: ((bytesDone: number) => void) | undefined;
}

/** Consecutive pfns that all hold data. */
export interface PhysicalRun {
  firstPfn: number;
  pages: number;
}

/** Most bytes one positional read of the input fetches (pages adjacent in the stream are read together). */
const MAX_READ = 1 << 20;

export class PhysicalMemoryView {
  private constructor(
    private readonly input: PreparedInput,
    private readonly pageReader: PageReader,
    private readonly index: PfnLastCopyIndex,
    /** What the walk learned: headers, guest kind, how the stream ended, the state records of the exported checkpoint. */
    readonly scan: ScanResult,
  ) {}

  /** Walk `source` once and index it. Close the view when done (it may hold a scratch copy of the input). */
  static async open(source: StreamSource, options: PhysicalViewOptions = {}): Promise<PhysicalMemoryView> {
    const input = await prepareInput(source, {
      positional: true,
      spoolPipes: true,
      spoolDir: options.spoolDir ?? tmpdir(),
      reader: options.reader,
      onProgress: options.onProgress,
    });
    try {
      const scan = await scanStream(input.source(), { reader: options.reader, flatten: true, onProgress: options.onProgress });
      const pages = await input.openPages();
      return new PhysicalMemoryView(input, pages, scan.index as PfnLastCopyIndex, scan);
    } catch (e) {
      await input.cleanup();
      throw e;
    }
  }

  /** Where the input was decompressed/copied to for positional reads, if it was. */
  get spooledTo(): string | undefined {
    return this.input.spooledTo;
  }

  /** Stream offset of the 4096 bytes of pfn's last copy; undefined when it has none (never sent, or last sent as XTAB/BROKEN/XALLOC). */
  pageOffset(pfn: number): number | undefined {
    const last = this.index.get(pfn);
    return last !== undefined && PAGE_TYPE_HAS_DATA[last.type] ? last.offset : undefined;
  }

  /** Page type (nibble) of pfn's last copy; undefined when never sent. */
  pageType(pfn: number): number | undefined {
    return this.index.get(pfn)?.type;
  }

  /**
   * Every run of consecutive pfns holding data, ascending (one pass over the
   * index). The runs are visited, not collected: a fragmented guest has many.
   */
  async forEachRun(visit: (run: PhysicalRun) => void | Promise<void>): Promise<void> {
    let first = -1;
    let pages = 0;
    await this.index.forEachAscending(async (pfn, type) => {
      if (!PAGE_TYPE_HAS_DATA[type]) return;
      if (pages > 0 && pfn === first + pages) {
        pages++;
        return;
      }
      if (pages > 0) await visit({ firstPfn: first, pages });
      first = pfn;
      pages = 1;
    });
    if (pages > 0) await visit({ firstPfn: first, pages });
  }

  /**
   * Fill `target` (a whole number of pages) with the pages from `firstPfn` on;
   * a page without data reads as zeros. Pages adjacent in the stream are
   * fetched with one read.
   */
  async readPages(firstPfn: number, target: Uint8Array): Promise<void> {
    const count = Math.floor(target.length / PAGE_SIZE);
    if (count * PAGE_SIZE !== target.length) throw new RangeError(`readPages: ${target.length} bytes is not a whole number of pages`);
    for (let i = 0; i < count; ) {
      const start = this.pageOffset(firstPfn + i);
      if (start === undefined) {
        target.fill(0, i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
        i++;
        continue;
      }
      let n = 1;
      while (i + n < count && n * PAGE_SIZE < MAX_READ && this.pageOffset(firstPfn + i + n) === start + n * PAGE_SIZE) n++;
      await this.pageReader.read(target.subarray(i * PAGE_SIZE, (i + n) * PAGE_SIZE), start);
      i += n;
    }
  }

  /** `length` bytes of guest-physical memory from `paddr` (a page without data reads as zeros). */
  async read(paddr: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(paddr) || paddr < 0 || !Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(paddr + length)) {
      throw new RangeError(`read: address ${paddr} and length ${length} must be non-negative integers below 2^53`);
    }
    if (length === 0) return new Uint8Array(0);
    const firstPfn = Math.floor(paddr / PAGE_SIZE);
    const endPfn = Math.ceil((paddr + length) / PAGE_SIZE);
    const pages = new Uint8Array((endPfn - firstPfn) * PAGE_SIZE);
    await this.readPages(firstPfn, pages);
    const from = paddr - firstPfn * PAGE_SIZE;
    return pages.subarray(from, from + length);
  }

  /** Release the input (and remove its scratch copy, if any). */
  async close(): Promise<void> {
    try {
      await this.pageReader.close();
    } finally {
      await this.input.cleanup();
    }
  }
}
