import type { CaptureFile } from './capture-file.js';

/** Collect this many bytes of incoming chunks before one vectored write. */
export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Writes the received chunks to the capture file several MiB at a time, with
 * one batch in flight while the next one fills: a pipe or socket delivers
 * 64 KiB per read, and one thread-pool write per read was the receiver's cost.
 * The chunks are kept as they arrived (no copy) until their batch is written.
 */
export class BatchedCaptureWriter {
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private inFlight: Promise<void> | undefined;

  /** `onWritten`: told the parts of each batch once they are in the file (in order), e.g. to recycle their memory. */
  constructor(
    private readonly file: CaptureFile,
    private readonly limit = DEFAULT_BATCH_BYTES,
    private readonly onWritten?: (parts: readonly Uint8Array[]) => void,
  ) {}

  /** Queue `chunk`; waits only when a full batch must wait for the previous write. */
  async add(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    if (this.batchBytes >= this.limit) await this.startWrite();
  }

  /** Write everything queued and wait for it. */
  async flush(): Promise<void> {
    await this.startWrite();
    await this.wait();
  }

  /** Wait for the write in flight, ignoring its outcome (before discarding the file after a failure). */
  async settle(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }

  private async startWrite(): Promise<void> {
    await this.wait();
    if (this.batchBytes === 0) return;
    const parts = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    const onWritten = this.onWritten;
    const write = onWritten === undefined ? this.file.write(parts) : this.file.write(parts).then(() => onWritten(parts));
    // Observed later by wait(); keep a rejection from counting as unhandled meanwhile.
    write.catch(() => undefined);
    this.inFlight = write;
  }

  private async wait(): Promise<void> {
    const write = this.inFlight;
    this.inFlight = undefined;
    await write;
  }
}
