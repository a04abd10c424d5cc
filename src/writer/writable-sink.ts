/**
 * A sink over a Node Writable (file stream, pipe, socket, process.stdout).
 * Each record's chunks are corked and released together, so a Writable with
 * _writev (fs.WriteStream, net.Socket) gets them in one vectored write; when
 * the Writable's buffer is full the write waits for 'drain'.
 */
import type { Writable } from 'node:stream';
import { totalLength, type StreamSink } from './sink.js';

export interface WritableSinkOptions {
  /** End the Writable on close() and destroy it on abort() (default true; false for process.stdout). */
  end?: boolean;
}

export class WritableSink implements StreamSink {
  private failure: Error | undefined;
  private written = 0;
  private readonly endOnClose: boolean;

  constructor(
    private readonly out: Writable,
    options: WritableSinkOptions = {},
  ) {
    this.endOnClose = options.end ?? true;
    // Keep the first error; it is re-thrown by the next write or close.
    out.on('error', (error: Error) => {
      this.failure ??= error;
    });
  }

  get bytesWritten(): number {
    return this.written;
  }

  /**
   * Resolves once the Writable has passed the record on (its write callback),
   * so the caller may reuse the buffers, and, if the Writable's buffer went over
   * its high-water mark, once it has drained.
   */
  async write(chunks: readonly Uint8Array[]): Promise<void> {
    this.throwIfUnusable();
    const out = this.out;
    let last = chunks.length - 1;
    while (last >= 0 && chunks[last].length === 0) last--;
    if (last < 0) return;
    let ok = true;
    out.cork();
    for (let i = 0; i < last; i++) if (chunks[i].length > 0) out.write(chunks[i]);
    const flushed = new Promise<void>((resolve, reject) => {
      ok = out.write(chunks[last], (error) => (error ? reject(error) : resolve()));
    });
    // Listen for 'drain' now: it is emitted right after the write callbacks run.
    const drained = ok ? undefined : this.waitFor('drain');
    out.uncork();
    this.written += totalLength(chunks);
    await Promise.all([flushed, drained]);
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.throwIfUnusable();
    if (this.endOnClose) {
      const finished = this.waitFor('finish');
      this.out.end();
      await finished;
    } else if (this.out.writableNeedDrain) {
      await this.waitFor('drain');
    }
    if (this.failure) throw this.failure;
  }

  async abort(): Promise<void> {
    if (this.endOnClose && !this.out.destroyed) this.out.destroy();
  }

  private throwIfUnusable(): void {
    if (this.failure) throw this.failure;
    if (this.out.destroyed || this.out.writableEnded) throw new Error('the output stream is already closed');
  }

  /** Wait for `event`; an 'error' or 'close' first rejects. */
  private waitFor(event: 'drain' | 'finish'): Promise<void> {
    const out = this.out;
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        out.off(event, onEvent);
        out.off('error', onError);
        out.off('close', onClose);
      };
      const onEvent = () => {
        cleanup();
        resolve();
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onClose = () => {
        cleanup();
        if (event === 'finish' && out.writableFinished) resolve();
        else reject(this.failure ?? new Error(`the output stream closed while waiting for '${event}'`));
      };
      out.on(event, onEvent);
      out.on('error', onError);
      out.on('close', onClose);
    });
  }
}
