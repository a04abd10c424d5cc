import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * A file that only appears under its final name once it is known to be good:
 * bytes go to a temporary file in the same directory (so the final rename is
 * atomic), `commit` renames it, `discard` removes whatever exists.
 */
export class CaptureFile {
  private handle: FileHandle | undefined;
  private written = 0;
  private committed = false;

  private constructor(
    readonly finalPath: string,
    readonly tempPath: string,
    handle: FileHandle,
  ) {
    this.handle = handle;
  }

  /** Create the temporary file next to `finalPath` (never overwriting anything). */
  static async create(finalPath: string): Promise<CaptureFile> {
    const tempPath = join(dirname(finalPath), `.${basename(finalPath)}.incoming-${process.pid}-${randomBytes(4).toString('hex')}`);
    const handle = await open(tempPath, 'wx', 0o600);
    return new CaptureFile(finalPath, tempPath, handle);
  }

  get bytesWritten(): number {
    return this.written;
  }

  get isCommitted(): boolean {
    return this.committed;
  }

  /** Append `parts` in order with one vectored write (more only if the kernel takes less). */
  async write(parts: Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (this.handle === undefined) throw new Error('capture file already closed');
    let left = parts instanceof Uint8Array ? [parts] : [...parts];
    let total = 0;
    for (const part of left) total += part.length;
    while (left.length > 0) {
      let { bytesWritten } = await this.handle.writev(left);
      while (left.length > 0 && bytesWritten >= left[0].length) bytesWritten -= (left.shift() as Uint8Array).length;
      if (bytesWritten > 0) left[0] = left[0].subarray(bytesWritten);
    }
    this.written += total;
  }

  /** Flush to disk and move the file to its final name. */
  async commit(): Promise<void> {
    if (this.handle === undefined) throw new Error('capture file already closed');
    const handle = this.handle;
    this.handle = undefined;
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(this.tempPath, this.finalPath);
    this.committed = true;
  }

  /** Remove our bytes: the temporary file, or the final file if it was already committed. */
  async discard(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
    await removeIfPresent(this.tempPath);
    if (this.committed) {
      await removeIfPresent(this.finalPath);
      this.committed = false;
    }
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
