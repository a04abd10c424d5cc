/**
 * Re-batching of PAGE_DATA entries for a streaming rewrite: entries are
 * gathered (pfn, type and a view of the page, never a copy) until `batch` of
 * them are pending, then written as one PAGE_DATA record. A new pass (a pfn
 * not above the previous one) starts a new record, so no record holds a pfn
 * twice. Memory: at most `batch` page views, i.e. the input records they
 * point into (≤ 1025 × 4 MiB in the worst case, usually a few MiB).
 */
import { PAGE_SIZE } from '../format/constants.js';
import type { PageDataBody } from '../codec/bodies/page-data.js';
import { forEachPage } from '../codec/bodies/page-data.js';
import type { StreamWriter } from '../writer/stream-writer.js';

export class PageBatcher {
  private pfns: number[] = [];
  private types: number[] = [];
  private chunks: Uint8Array[] = [];
  /** Records written. */
  records = 0;
  entries = 0;

  constructor(
    private readonly writer: StreamWriter,
    /** pfns per record; undefined keeps the input's records as they are. */
    private readonly batch: number | undefined,
  ) {}

  get pending(): number {
    return this.pfns.length;
  }

  async add(body: PageDataBody): Promise<void> {
    if (this.batch === undefined) {
      await this.writer.writePages(body.pfns, body.types, body.pageData);
      this.records++;
      this.entries += body.pfns.length;
      return;
    }
    // forEachPage is synchronous: collect this record's entries, flushing between them as needed.
    const entries: Array<[number, number, Uint8Array | undefined]> = [];
    forEachPage(body, (pfn, type, page) => entries.push([pfn, type, page]));
    for (const [pfn, type, page] of entries) {
      const n = this.pfns.length;
      if (n > 0 && (n === this.batch || pfn <= this.pfns[n - 1])) await this.flush();
      this.push(pfn, type, page);
    }
  }

  private push(pfn: number, type: number, page: Uint8Array | undefined): void {
    this.pfns.push(pfn);
    this.types.push(type);
    if (!page) return;
    // Pages next to each other in the input become one chunk (fewer iovecs per write).
    const last = this.chunks[this.chunks.length - 1];
    if (last && last.buffer === page.buffer && last.byteOffset + last.length === page.byteOffset) {
      this.chunks[this.chunks.length - 1] = new Uint8Array(last.buffer, last.byteOffset, last.length + PAGE_SIZE);
    } else {
      this.chunks.push(page);
    }
  }

  /** Write what is pending (before any other record, and at the end). */
  async flush(): Promise<void> {
    if (this.pfns.length === 0) return;
    const { pfns, types, chunks } = this;
    this.pfns = [];
    this.types = [];
    this.chunks = [];
    await this.writer.writePages(pfns, types, chunks);
    this.records++;
    this.entries += pfns.length;
  }
}
