/** Where binary output goes: an output file, or stdout with backpressure. */
import type { Writable } from 'node:stream';
import { OutputClosedError } from './text-sink.js';
import type { AtomicOutput } from '../io/atomic-output.js';

export interface ByteSink {
  write(chunks: readonly Uint8Array[]): Promise<void>;
  readonly bytesWritten: number;
}

export class FileByteSink implements ByteSink {
  bytesWritten = 0;
  constructor(private readonly file: AtomicOutput) {}
  async write(chunks: readonly Uint8Array[]): Promise<void> {
    await this.file.write(chunks);
    this.bytesWritten = this.file.bytesWritten;
  }
}

export class WritableByteSink implements ByteSink {
  bytesWritten = 0;
  private failed?: Error;
  constructor(private readonly out: Writable) {
    out.on('error', (e: NodeJS.ErrnoException) => {
      this.failed = e.code === 'EPIPE' ? new OutputClosedError('output closed') : e;
    });
  }
  async write(chunks: readonly Uint8Array[]): Promise<void> {
    for (const c of chunks) {
      if (this.failed) throw this.failed;
      this.bytesWritten += c.length;
      if (!this.out.write(c)) await new Promise<void>((resolve) => this.out.once('drain', resolve));
    }
  }
}
