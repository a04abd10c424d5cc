/**
 * Compressed output: what the caller appends goes through a compressor whose
 * output is appended to the real file (or device) in order. Used by
 * AtomicOutput when asked for a compression format; the temporary-file,
 * rename and cleanup rules stay AtomicOutput's.
 */
import type { FileHandle } from 'node:fs/promises';
import { codecNamed, type CompressionName, type Filter } from './compression/index.js';

type Io = Pick<FileHandle, 'write' | 'writev' | 'close' | 'datasync'>;

export class CompressingIo {
  private readonly filter: Filter;
  private readonly pump: Promise<void>;
  private failure: unknown;
  private ended?: Promise<void>;
  /** Compressed bytes written to the file so far. */
  written = 0;

  constructor(
    private readonly target: Io,
    format: CompressionName,
    /** Written at positions (a temporary file) or in order (a device, FIFO or inherited fd). */
    private readonly positioned: boolean,
  ) {
    this.filter = codecNamed(format).compressor();
    this.pump = this.copyOut();
    this.pump.catch((e: unknown) => {
      this.failure ??= e;
      this.filter.stop();
    });
  }

  private async copyOut(): Promise<void> {
    for await (const chunk of this.filter.output as AsyncIterable<Uint8Array>) {
      for (let done = 0; done < chunk.length; ) {
        const { bytesWritten } = await this.target.write(chunk, done, chunk.length - done, this.positioned ? this.written : null);
        done += bytesWritten;
        this.written += bytesWritten;
      }
    }
    await this.filter.finished;
  }

  /** Feed `chunks` to the compressor; resolves once it has taken them (the caller may then reuse the buffers). */
  async write(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.failure) throw this.failure;
    let last: Promise<void> | undefined;
    for (const c of chunks) {
      if (c.length === 0) continue;
      last = new Promise<void>((resolve, reject) => this.filter.input.write(c, (e) => (e ? reject(e) : resolve())));
    }
    // Ordered writes: the last one's callback means all were taken. A failed compressor rejects through the pump.
    if (last) await Promise.race([last, this.pump.then(() => undefined)]);
    if (this.failure) throw this.failure;
  }

  /** Flush the compressor and wait until every compressed byte is in the file. */
  finish(): Promise<void> {
    this.ended ??= (async () => {
      if (!this.failure) this.filter.input.end();
      await this.pump;
    })();
    return this.ended;
  }

  /** Give up: the output is being discarded. */
  stop(): void {
    this.failure ??= new Error('output discarded');
    this.filter.stop();
  }
}
