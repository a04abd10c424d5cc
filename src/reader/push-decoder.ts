/**
 * A decoder fed by pushes, for protocol sessions that must know where the
 * stream ends inside a byte flow (xl migrate sends its go message right after
 * the libxl END on the same pipe).
 */
import { StreamDecoder, type ReaderOptions } from './decoder.js';
import type { StreamEnd, StreamItem } from './items.js';
import type { StreamSummary } from './summary.js';

export type { ReaderOptions };

export class PushDecoder {
  private readonly decoder: StreamDecoder;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private need = 0;
  private stopped = false;

  constructor(options: ReaderOptions = {}) {
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

  /** Feed bytes; returns the items they completed. Throws StreamFormatError on bad input. */
  push(chunk: Uint8Array): StreamItem[] {
    if (chunk.length > 0) {
      this.queue.push(chunk);
      this.queued += chunk.length;
    }
    const items: StreamItem[] = [];
    while (!this.stopped) {
      if (this.buf.length - this.pos < this.need && !this.assemble(this.need)) break;
      const step = this.decoder.next(this.buf.subarray(this.pos));
      if ('item' in step) {
        this.pos += step.item.length;
        this.need = 0;
        items.push(step.item);
      } else if ('skip' in step) {
        this.pos += step.skip;
        this.need = 1;
      } else if ('stop' in step) {
        this.stopped = true;
      } else {
        this.need = step.need;
        if (!this.assemble(step.need)) break;
      }
    }
    return items;
  }

  /** With stopAtEnd: the bytes pushed after the final END. */
  trailing(): Uint8Array {
    const parts = [this.buf.subarray(this.pos), ...this.queue];
    return Buffer.concat(parts);
  }

  /** The input ended: how did the stream end? Throws StreamFormatError if it is incomplete. */
  end(): StreamEnd & { complete: boolean; failover: boolean } {
    if (!this.stopped) this.assemble(this.buf.length - this.pos + this.queued);
    const rest = this.decoder.done ? new Uint8Array(0) : this.buf.subarray(this.pos);
    const { end } = this.decoder.finish(rest);
    return { ...end, complete: end.status === 'complete', failover: end.status === 'failover' };
  }

  /** Make n bytes contiguous if they have arrived. */
  private assemble(n: number): boolean {
    const have = this.buf.length - this.pos;
    if (have >= n) return true;
    if (have + this.queued < n || this.queue.length === 0) return false;
    if (have === 0 && this.queue[0].length >= n) {
      this.buf = this.queue.shift() as Uint8Array;
      this.queued -= this.buf.length;
      this.pos = 0;
      return true;
    }
    let size = have;
    let take = 0;
    while (size < n) size += this.queue[take++].length;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(this.pos));
    let at = have;
    for (let i = 0; i < take; i++) {
      const c = this.queue.shift() as Uint8Array;
      next.set(c, at);
      at += c.length;
      this.queued -= c.length;
    }
    this.buf = next;
    this.pos = 0;
    return true;
  }
}
