/**
 * A decoder fed by pushes, for protocol sessions that must know where the
 * stream ends inside a byte flow (xl migrate sends its go message right after
 * the libxl END on the same pipe).
 */
import { StreamDecoder, type ReaderOptions } from './decoder.js';
import type { StreamEnd, StreamItem } from './items.js';
import type { StreamSummary } from './summary.js';
import { ChunkQueue } from './sources.js';

export type { ReaderOptions };

export class PushDecoder {
  private readonly decoder: StreamDecoder;
  private readonly chunks = new ChunkQueue();
  private need = 0;
  private stopped = false;

  constructor(options: ReaderOptions = {}) {
    // A session receiver checks and keeps every byte it is pushed: nothing to skip.
    this.decoder = new StreamDecoder({ ...options, pageContents: 'read' });
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
    this.chunks.push(chunk);
    const items: StreamItem[] = [];
    while (!this.stopped && this.chunks.assemble(this.need)) {
      const step = this.decoder.next(this.chunks.current());
      if ('item' in step) {
        this.chunks.consume(step.item.length);
        this.need = 0;
        items.push(step.item);
      } else if ('skip' in step) {
        this.chunks.consume(step.skip);
        this.need = 1;
      } else if ('stop' in step) {
        this.stopped = true;
      } else {
        this.need = step.need;
      }
    }
    return items;
  }

  /** With stopAtEnd: the bytes pushed after the final END. */
  trailing(): Uint8Array {
    return this.chunks.rest();
  }

  /** The input ended: how did the stream end? Throws StreamFormatError if it is incomplete. */
  end(): StreamEnd & { complete: boolean; failover: boolean } {
    if (!this.stopped) this.chunks.assemble(this.chunks.available);
    const rest = this.decoder.done ? new Uint8Array(0) : this.chunks.current();
    const { end } = this.decoder.finish(rest);
    return { ...end, complete: end.status === 'complete', failover: end.status === 'failover' };
  }
}
