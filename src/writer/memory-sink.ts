/** A sink that keeps the stream in memory, for tests and small streams. */
import { concatBytes, copyBytes } from '../codec/bytes.js';
import { totalLength, type StreamSink } from './sink.js';

export interface MemorySinkOptions {
  /**
   * Copy each chunk (default false: keep the caller's views, so the buffers
   * written must not be modified afterwards).
   */
  copy?: boolean;
}

export class MemorySink implements StreamSink {
  private readonly parts: Uint8Array[] = [];
  private written = 0;
  private state: 'open' | 'closed' | 'aborted' = 'open';

  constructor(private readonly options: MemorySinkOptions = {}) {}

  get bytesWritten(): number {
    return this.written;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get aborted(): boolean {
    return this.state === 'aborted';
  }

  /** The chunks as written (views unless `copy`). */
  get chunks(): readonly Uint8Array[] {
    return this.parts;
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.state !== 'open') throw new Error(`the memory sink is ${this.state}`);
    for (const c of chunks) if (c.length > 0) this.parts.push(this.options.copy ? copyBytes(c) : c);
    this.written += totalLength(chunks);
  }

  async close(): Promise<void> {
    if (this.state !== 'open') throw new Error(`the memory sink is ${this.state}`);
    this.state = 'closed';
  }

  async abort(): Promise<void> {
    if (this.state === 'open') this.state = 'aborted';
  }

  /** Everything written so far, concatenated into one new buffer. */
  bytes(): Uint8Array {
    return concatBytes(this.parts);
  }
}
