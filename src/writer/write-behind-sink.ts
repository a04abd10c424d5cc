/**
 * A sink that lets its caller build the next record while the previous one is
 * still being written: write() starts the inner write and resolves at once,
 * waiting only for the write before it. So JavaScript (encoding, page views)
 * and the kernel's copy run on different threads instead of taking turns; the
 * inner sink still sees one write at a time, in order.
 *
 * Only for callers that never change a chunk after handing it over (synth:
 * fresh headers and stamps per record, an immutable page pool). A failed write
 * is reported by the next write(), or by close().
 */
import type { StreamSink } from './sink.js';
import { totalLength } from './sink.js';

export class WriteBehindSink implements StreamSink {
  private pending: Promise<void> = Promise.resolve();
  private accepted: number;

  constructor(private readonly inner: StreamSink) {
    this.accepted = inner.bytesWritten;
  }

  get bytesWritten(): number {
    return this.accepted;
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    await this.pending;
    this.accepted += totalLength(chunks);
    const started = this.inner.write(chunks);
    // Kept as a rejection for the next call; marked handled so it is not reported as unhandled meanwhile.
    started.catch(() => undefined);
    this.pending = started;
  }

  async close(): Promise<void> {
    await this.pending;
    await this.inner.close();
  }

  async abort(reason?: Error): Promise<void> {
    await this.pending.catch(() => undefined);
    await this.inner.abort(reason);
  }
}
