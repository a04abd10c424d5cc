/**
 * A decoder fed by pushes, for protocol sessions that must know where the
 * stream ends inside a byte flow (xl migrate sends its go message right after
 * the libxl END on the same pipe).
 */
import { RECORD_HEADER_SIZE } from '../format/constants.js';
import { copyBytes } from '../codec/bytes.js';
import { StreamDecoder, type ReaderOptions } from './decoder.js';
import type { RecordItem, StreamEnd, StreamItem } from './items.js';
import type { StreamSummary } from './summary.js';
import { ChunkQueue } from './sources.js';

export type { ReaderOptions };

/** Nothing bounds a pushed stream's length: every record is "known" to be whole until the input ends. */
const UNBOUNDED = Number.POSITIVE_INFINITY;

export class PushDecoder {
  private readonly decoder: StreamDecoder;
  private readonly chunks = new ChunkQueue();
  private readonly passPages: boolean;
  private need = 0;
  private stopped = false;
  /** Page or blob bytes still to arrive; they are counted, never buffered. */
  private passRemaining = 0;
  /** The page-data record whose pages are passing, and its record header (for a truncation verdict). */
  private passing?: { item: RecordItem; head: Uint8Array } | undefined;
  /**
   * Blob bytes of the record at the decoder's position that pass unread (its
   * EMULATOR_CONTEXT blob): cut out of the queue, which keeps the bytes before
   * and after them, and told to the decoder, which emits the record once its
   * padding is in.
   */
  private omitted = 0;

  /**
   * pageContents 'read' (default): every record is assembled and decoded.
   * 'skip': a PAGE_DATA / POSTCOPY_PAGE_DATA record is checked from its header
   * and pfn array (the reader's skip-pages path, same rules and messages) and
   * its pages are counted as they pass, never assembled: the caller keeps the
   * bytes it pushed (a session receiver writes them to its capture file), and
   * no rule looks at page contents. Likewise EMULATOR_CONTEXT's blob: the
   * record is checked from its headers and padding (body.blobSkipped).
   */
  constructor(options: ReaderOptions = {}) {
    this.passPages = options.pageContents === 'skip';
    this.decoder = new StreamDecoder(options);
  }

  /** True once the stream's final END has been decoded. */
  get done(): boolean {
    return this.decoder.done;
  }

  /** Absolute offset of the next undecoded stream byte. */
  get position(): number {
    return this.decoder.position;
  }

  get problems() {
    return this.decoder.problems;
  }

  summary(end?: StreamEnd): StreamSummary {
    return this.decoder.summary(end);
  }

  /**
   * Feed bytes; returns the items they completed (which may view `chunk`).
   * Throws StreamFormatError on bad input. Nothing of `chunk` is kept after
   * the call (an unfinished record is copied), so the caller may reuse its
   * memory once it is done with the items.
   */
  push(chunk: Uint8Array): StreamItem[] {
    const items: StreamItem[] = [];
    const rest = this.passThrough(chunk);
    if (rest.length === 0) return items;
    try {
      this.decodePushed(rest, items);
    } finally {
      this.chunks.releaseInput();
    }
    return items;
  }

  private decodePushed(rest: Uint8Array, items: StreamItem[]): void {
    this.chunks.push(rest);
    while (!this.stopped && this.passRemaining === 0 && this.chunks.assemble(this.need)) {
      const view = this.chunks.current();
      const step = this.decoder.next(view, this.passPages ? UNBOUNDED : view.length, this.omitted);
      if ('item' in step) {
        this.consumeItem(step.item, view);
        this.need = 0;
        items.push(step.item);
      } else if ('skip' in step) {
        this.chunks.consume(step.skip);
        this.need = 1;
      } else if ('stop' in step) {
        this.stopped = true;
      } else if (step.passable !== undefined) {
        this.passBlob(step.passable);
        this.need = 0;
      } else {
        this.need = step.need;
      }
    }
  }

  /** With stopAtEnd: the bytes pushed after the final END. */
  trailing(): Uint8Array {
    return this.chunks.rest();
  }

  /** The input ended: how did the stream end? Throws StreamFormatError if it is incomplete. */
  end(): StreamEnd & { complete: boolean; failover: boolean } {
    let verdict: { end: StreamEnd };
    if (this.passing !== undefined && this.passRemaining > 0) {
      const { item, head } = this.passing;
      verdict = this.decoder.finishInside(item, head, item.length - this.passRemaining);
    } else {
      if (!this.stopped) this.chunks.assemble(this.chunks.available);
      const rest = this.decoder.done ? new Uint8Array(0) : this.chunks.current();
      // A blob cut out of the queue counts as far as it arrived.
      verdict = this.decoder.finish(rest, rest.length + this.omitted - this.passRemaining);
    }
    const { end } = verdict;
    return { ...end, complete: end.status === 'complete', failover: end.status === 'failover' };
  }

  /** Count the leading bytes of `chunk` that belong to pages passing unread; return the rest. */
  private passThrough(chunk: Uint8Array): Uint8Array {
    if (this.passRemaining === 0) return chunk;
    const counted = Math.min(this.passRemaining, chunk.length);
    this.passRemaining -= counted;
    if (this.passRemaining === 0) this.passing = undefined;
    return chunk.subarray(counted);
  }

  /** Cut the blob out of the queue behind the headers before it; what has not arrived yet is counted as it does. */
  private passBlob(blob: { at: number; length: number }): void {
    this.omitted = blob.length;
    this.passRemaining = blob.length - this.chunks.cut(blob.at, blob.length);
  }

  private consumeItem(item: StreamItem, view: Uint8Array): void {
    const queued = item.length - this.omitted;
    this.omitted = 0;
    if (queued <= view.length) {
      this.chunks.consume(queued);
      return;
    }
    // A record whose pages were skipped: drop what is buffered of them, count the rest as it arrives.
    this.passRemaining = item.length - this.chunks.drop(item.length);
    if (this.passRemaining > 0) this.passing = { item: item as RecordItem, head: copyBytes(view, 0, RECORD_HEADER_SIZE) };
  }
}
