/**
 * The guest memory a stream implies, as a raw sparse image: the page of pfn p
 * at byte p × 4096, the last copy of each pfn wins, an entry without data
 * (XTAB, BROKEN, XALLOC) leaves zeros, pages never sent stay holes.
 *
 * Checkpoints: pages are written as they arrive; the first time a checkpoint
 * touches a pfn that already holds data, the old page goes to an undo log.
 * commit() forgets the log (the checkpoint completed), rollback() puts the old
 * pages back (it never did). Memory: three bitmaps (a few bits per pfn) plus
 * the undo log's fixed buffer.
 */
import { PAGE_SIZE } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import type { PfnEntries } from '../codec/bodies/page-data.js';
import { PfnSet } from '../reader/pfn-set.js';
import type { AtomicOutput } from '../io/atomic-output.js';
import { UndoLog } from './undo-log.js';

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

export class MemoryImage {
  /** pfns whose page in the file currently holds data. */
  private readonly hasData = new PfnSet();
  /** pfns the open checkpoint has touched. */
  private touched = new PfnSet();
  private readonly undo: UndoLog;
  private openMaxPfn = -1;
  private committedMaxPfn = -1;
  private readonly scratch = new Uint8Array(PAGE_SIZE);

  constructor(
    private readonly file: AtomicOutput,
    spillDir: string,
  ) {
    this.undo = new UndoLog(spillDir);
  }

  /** Pages holding data in the image. */
  get pages(): number {
    return this.hasData.size;
  }

  /** Image size: up to the highest pfn of a committed entry (or announced by the P2M). */
  get sizeBytes(): number {
    return (this.committedMaxPfn + 1) * PAGE_SIZE;
  }

  /** The guest's size is known early (PV: the P2M's end pfn): size the file now, sparse. */
  async announceMaxPfn(pfn: number): Promise<void> {
    if (pfn > this.openMaxPfn) {
      this.openMaxPfn = pfn;
      await this.file.handle.truncate((pfn + 1) * PAGE_SIZE);
    }
  }

  /** Apply one PAGE_DATA-like record (entries plus their pages, data pages in entry order). */
  async apply(entries: Pick<PfnEntries, 'pfns' | 'types'>, pageData: Uint8Array): Promise<void> {
    const { pfns, types } = entries;
    // Save what this checkpoint is about to overwrite, before any write of this record.
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i];
      if (pfn > this.openMaxPfn) this.openMaxPfn = pfn;
      if (!this.touched.add(pfn)) continue;
      if (this.hasData.has(pfn)) await this.undo.save(pfn, await this.readPage(pfn));
    }
    // Write in entry order, coalescing consecutive pfns into one positional write.
    let runPfn = -1;
    let runFrom = 0;
    let runPages = 0;
    const flush = async () => {
      if (runPages > 0) await this.file.writeAt(pageData.subarray(runFrom * PAGE_SIZE, (runFrom + runPages) * PAGE_SIZE), runPfn * PAGE_SIZE);
      runPages = 0;
    };
    let dataIndex = 0;
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i];
      if (PAGE_TYPE_HAS_DATA[types[i]]) {
        if (runPages > 0 && pfn === runPfn + runPages) runPages++;
        else {
          await flush();
          runPfn = pfn;
          runFrom = dataIndex;
          runPages = 1;
        }
        this.hasData.add(pfn);
        dataIndex++;
      } else if (this.hasData.has(pfn)) {
        // The page went away (e.g. XTAB in a later pass): the last copy says "no data".
        await flush();
        await this.file.writeAt(ZERO_PAGE, pfn * PAGE_SIZE);
        this.hasData.delete(pfn);
      }
    }
    await flush();
  }

  /** The open checkpoint completed: its pages stay. */
  async commit(): Promise<void> {
    this.committedMaxPfn = this.openMaxPfn;
    this.touched = new PfnSet();
    await this.undo.clear();
  }

  /** The open checkpoint never completed: put back what it overwrote. Returns the pfns restored or cleared. */
  async rollback(): Promise<number> {
    let restored = 0;
    // Pages that had no data before the checkpoint: back to zero (those saved are rewritten below).
    for (const pfn of this.touched.values()) {
      if (this.hasData.has(pfn)) {
        await this.file.writeAt(ZERO_PAGE, pfn * PAGE_SIZE);
        this.hasData.delete(pfn);
      }
      restored++;
    }
    await this.undo.forEach(async (pfn, page) => {
      await this.file.writeAt(page, pfn * PAGE_SIZE);
      this.hasData.add(pfn);
    });
    this.touched = new PfnSet();
    this.openMaxPfn = this.committedMaxPfn;
    await this.undo.clear();
    return restored;
  }

  /** Give the file its final size (a hole up to it where nothing was written). */
  async finish(): Promise<void> {
    await this.file.handle.truncate(this.sizeBytes);
    await this.undo.close();
  }

  async abort(): Promise<void> {
    await this.undo.close();
  }

  private async readPage(pfn: number): Promise<Uint8Array> {
    this.scratch.fill(0);
    let done = 0;
    while (done < PAGE_SIZE) {
      const { bytesRead } = await this.file.handle.read(this.scratch, done, PAGE_SIZE - done, pfn * PAGE_SIZE + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return this.scratch;
  }
}
