/**
 * The receiver's capture: a stream that appears under its final name only once
 * it is known to be good (src/io/atomic-output.ts). It holds guest memory, so
 * it is 0600; the receiver holds an exclusive lock on the final name from
 * create() to release(), so a second receiver with the same -o is refused
 * instead of racing (and neither ever removes the other's file). Once
 * committed, the file is kept whatever fails later.
 */
import { AtomicOutput, PRIVATE_MODE } from '../io/atomic-output.js';
import { removeTemporary } from '../io/temporaries.js';
import { compressionForPath } from '../io/compression/index.js';

export class CaptureFile {
  private withdrawn = false;

  private constructor(private readonly output: AtomicOutput) {}

  /**
   * Create the temporary file next to `finalPath` (never overwriting anything) and lock the final name.
   * A name ending in .gz .zst .xz .bz2 .lz4 gets the capture compressed (bytesWritten counts the stream's bytes).
   */
  static async create(finalPath: string): Promise<CaptureFile> {
    const compress = compressionForPath(finalPath)?.name;
    return new CaptureFile(await AtomicOutput.open(finalPath, { mode: PRIVATE_MODE, exclusive: true, fsync: true, tag: 'incoming', compress }));
  }

  get finalPath(): string {
    return this.output.path;
  }

  /** The temporary file while receiving (the final path once committed). */
  get tempPath(): string {
    return this.output.tempPath ?? this.output.path;
  }

  get bytesWritten(): number {
    return this.output.bytesWritten;
  }

  get isCommitted(): boolean {
    return this.output.committed && !this.withdrawn;
  }

  /** Append `parts` in order with one vectored write (more only if the kernel takes less). */
  async write(parts: Uint8Array | readonly Uint8Array[]): Promise<void> {
    await this.output.write(parts instanceof Uint8Array ? [parts] : parts);
  }

  /** Flush to disk and move the file to its final name. */
  async commit(): Promise<void> {
    await this.output.commit();
  }

  /** Remove the temporary file if not committed (a committed capture is kept), and release the lock. */
  async discard(): Promise<void> {
    await this.output.discard();
  }

  /**
   * xl's step after a failed start: the sender has been told (status ≠ 0) and
   * resumes its own domain, so our copy must not survive. The one case where a
   * committed capture is removed, and only while its name still holds our inode.
   */
  async withdraw(): Promise<void> {
    const identity = this.output.identity;
    if (this.output.committed && !this.withdrawn && identity) {
      this.withdrawn = true;
      await removeTemporary({ path: this.output.committedPath, ...identity });
    }
    await this.discard();
  }

  /** The session is over: release the lock on the final name. */
  async release(): Promise<void> {
    await this.output.release();
  }
}
