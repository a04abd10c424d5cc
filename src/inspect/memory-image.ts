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
 *
 * Writes: a record's runs of consecutive pfns each go as one positioned write
 * straight from the record's page data (no copy), several in flight. apply()
 * returns once they have started, and waits for them at the next call (or
 * commit, rollback, finish): a record's bytes must stay unchanged until then,
 * which a reader recycling its buffers with 'alternate' guarantees, so the
 * next record is read while this one is written.
 *
 * Size: a pfn sets the image's size (pfn + 1 pages, sparse), and legal pfns go
 * up to 2^52 − 1 (16 EiB). Entries beyond `maxImageBytes` are refused with an
 * ImageSizeError naming the pfn and its record's offset, before anything of
 * that record is written.
 */
import { PAGE_SIZE } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import type { PfnEntries } from '../codec/bodies/page-data.js';
import { PfnSet } from '../reader/pfn-set.js';
import type { AtomicOutput } from '../io/atomic-output.js';
import { PositionedWrites } from '../writer/positioned-writes.js';
import { InspectArgumentError } from './argument-error.js';
import { offsetHex } from './text-format.js';
import { UndoLog } from './undo-log.js';

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

/** Default for MemoryImage's maxImageBytes (extract --max-image-size): 1 TiB, pfns below 2^28. */
export const DEFAULT_MAX_IMAGE_BYTES = 2 ** 40;

/** A pfn whose page lies beyond the image size limit, or an image the output's filesystem cannot hold. */
export class ImageSizeError extends InspectArgumentError {}

/** 8796093026304 → "8.0 TiB" (binary units up to EiB: legal pfns reach 16 EiB of image). */
function sizeName(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let u = 0;
  while (u < units.length - 1 && bytes >= 1024 ** (u + 1)) u++;
  return u === 0 ? `${bytes} bytes` : `${(bytes / 1024 ** u).toFixed(1)} ${units[u]}`;
}

export class MemoryImage {
  /** pfns whose page in the file currently holds data. */
  private readonly hasData = new PfnSet();
  /** pfns the open checkpoint has touched. */
  private touched = new PfnSet();
  private readonly undo: UndoLog;
  private openMaxPfn = -1;
  /** A checkpoint has completed: pages with data may predate the open one. */
  private committed = false;
  private committedMaxPfn = -1;
  private readonly scratch = new Uint8Array(PAGE_SIZE);
  private readonly writes: PositionedWrites;
  private readonly maxPfn: number;

  constructor(
    private readonly file: AtomicOutput,
    spillDir: string,
    private readonly maxImageBytes = DEFAULT_MAX_IMAGE_BYTES,
  ) {
    this.undo = new UndoLog(spillDir);
    this.writes = new PositionedWrites();
    this.maxPfn = Math.floor(maxImageBytes / PAGE_SIZE) - 1;
  }

  /** Pages holding data in the image. */
  get pages(): number {
    return this.hasData.size;
  }

  /** Image size: up to the highest pfn of a committed entry (or announced by the P2M). */
  get sizeBytes(): number {
    return (this.committedMaxPfn + 1) * PAGE_SIZE;
  }

  /** The guest's size is known early (PV: the P2M's end pfn, in the record at `recordOffset`): size the file now, sparse. */
  async announceMaxPfn(pfn: number, recordOffset: number): Promise<void> {
    this.checkPfn(pfn, recordOffset);
    if (pfn > this.openMaxPfn) {
      this.openMaxPfn = pfn;
      await this.writes.drain();
      await this.truncate((pfn + 1) * PAGE_SIZE);
    }
  }

  /**
   * Apply one PAGE_DATA-like record (entries plus their pages, data pages in
   * entry order; the record starts at `recordOffset`). Resolves when its
   * writes have started, after the previous record's are done: `pageData`
   * must stay unchanged until the next call to this object resolves.
   */
  async apply(entries: Pick<PfnEntries, 'pfns' | 'types'>, pageData: Uint8Array, recordOffset: number): Promise<void> {
    await this.writes.drain();
    const { pfns, types } = entries;
    // One pass for the highest pfn and whether every entry has data: loops per pfn are what a walk pays for.
    let maxPfn = -1;
    let allData = true;
    for (let i = 0; i < pfns.length; i++) {
      if (pfns[i] > maxPfn) maxPfn = pfns[i];
      if (!PAGE_TYPE_HAS_DATA[types[i]]) allData = false;
    }
    if (maxPfn > this.maxPfn) for (const pfn of pfns) this.checkPfn(pfn, recordOffset); // throws at the first too big
    if (maxPfn > this.openMaxPfn) this.openMaxPfn = maxPfn;
    if (!this.committed) {
      // Before the first commit every page with data was written by the open checkpoint: nothing to save.
      this.touched.addAll(pfns);
    } else {
      // Save what this checkpoint is about to overwrite, before any write of this record
      // (nothing is in flight here: the previous record's writes are done).
      for (let i = 0; i < pfns.length; i++) {
        const pfn = pfns[i];
        if (!this.touched.add(pfn)) continue;
        if (this.hasData.has(pfn)) await this.undo.save(pfn, await this.readPage(pfn));
      }
    }
    // Every entry with data (the usual record): the set learns the pfns in one call after the
    // writes. An entry without data must see the entries before it in the set, so then one at a time.
    // Write in entry order, each run of consecutive pfns as one positional write
    // (PositionedWrites keeps a later write to the same pfn behind an earlier one).
    let runPfn = -1;
    let runFrom = 0;
    let runPages = 0;
    const flush = async () => {
      if (runPages > 0) await this.writeInFlight(pageData.subarray(runFrom * PAGE_SIZE, (runFrom + runPages) * PAGE_SIZE), runPfn * PAGE_SIZE);
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
        if (!allData) this.hasData.add(pfn);
        dataIndex++;
      } else if (this.hasData.has(pfn)) {
        // The page went away (e.g. XTAB in a later pass): the last copy says "no data".
        await flush();
        await this.writeInFlight(ZERO_PAGE, pfn * PAGE_SIZE);
        this.hasData.delete(pfn);
      }
    }
    await flush();
    if (allData) this.hasData.addAll(pfns);
  }

  /** The open checkpoint completed: its pages stay. */
  async commit(): Promise<void> {
    await this.writes.drain();
    this.committed = true;
    this.committedMaxPfn = this.openMaxPfn;
    this.touched = new PfnSet();
    await this.undo.clear();
  }

  /** The open checkpoint never completed: put back what it overwrote. Returns the pfns restored or cleared. */
  async rollback(): Promise<number> {
    await this.writes.drain();
    let restored = 0;
    // Pages that had no data before the checkpoint: back to zero (those saved are rewritten below).
    for (const pfn of this.touched.values()) {
      if (this.hasData.has(pfn)) {
        await this.writeAt(ZERO_PAGE, pfn * PAGE_SIZE);
        this.hasData.delete(pfn);
      }
      restored++;
    }
    // One write at a time: the undo log reuses the buffer `page` is a view of.
    await this.undo.forEach(async (pfn, page) => {
      await this.writeAt(page, pfn * PAGE_SIZE);
      this.hasData.add(pfn);
    });
    this.touched = new PfnSet();
    this.openMaxPfn = this.committedMaxPfn;
    await this.undo.clear();
    return restored;
  }

  /** Give the file its final size (a hole up to it where nothing was written). */
  async finish(): Promise<void> {
    await this.writes.drain();
    await this.truncate(this.sizeBytes);
    await this.undo.close();
  }

  async abort(): Promise<void> {
    await this.writes.drain().catch(() => undefined);
    await this.undo.close();
  }

  private checkPfn(pfn: number, recordOffset: number): void {
    if (pfn <= this.maxPfn) return;
    throw new ImageSizeError(
      `pfn ${pfn} (0x${pfn.toString(16)}) of the record at offset ${recordOffset} (${offsetHex(recordOffset)}) would make the memory image ` +
        `${sizeName((pfn + 1) * PAGE_SIZE)} (sparse), more than the limit of ${sizeName(this.maxImageBytes)}: raise it with --max-image-size if the guest is that big`,
    );
  }

  private writeInFlight(bytes: Uint8Array, position: number): Promise<void> {
    return this.writes.write(position, bytes.length, () => this.writeAt(bytes, position));
  }

  private async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    try {
      await this.file.writeAt(bytes, position);
    } catch (e) {
      throw this.tooBig(e, position + bytes.length);
    }
  }

  private async truncate(size: number): Promise<void> {
    try {
      await this.file.handle.truncate(size);
    } catch (e) {
      throw this.tooBig(e, size);
    }
  }

  /** EFBIG: the limit allows more than the output's filesystem holds in one file. */
  private tooBig(e: unknown, size: number): unknown {
    if ((e as NodeJS.ErrnoException).code !== 'EFBIG') return e;
    return new ImageSizeError(`the memory image would be ${sizeName(size)} (sparse), more than the output's filesystem allows a file to be (EFBIG)`);
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
