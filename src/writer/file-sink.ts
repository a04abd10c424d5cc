/**
 * A sink that writes a file by path, atomically: the bytes go to a temporary
 * file in the same directory, which is renamed to the final name only when
 * close() succeeds. abort() (or a failed write) deletes the temporary file, so
 * an aborted or failed writer never leaves a file under the final name.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { totalLength, type StreamSink } from './sink.js';

export interface FileSinkOptions {
  /** fsync the data before the rename (durable, slower). Default false. */
  fsync?: boolean;
  /** File mode for a new file (before umask). Default 0o666. */
  mode?: number;
}

export class FileSink implements StreamSink {
  private written = 0;
  private state: 'open' | 'closed' | 'aborted' = 'open';

  private constructor(
    /** The final name. */
    readonly path: string,
    /** Where the bytes are while the stream is being written. */
    readonly tempPath: string,
    private readonly handle: FileHandle,
    private readonly options: FileSinkOptions,
  ) {}

  /** Create the temporary file next to `path`. */
  static async create(path: string, options: FileSinkOptions = {}): Promise<FileSink> {
    const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
    const handle = await open(tempPath, 'wx', options.mode ?? 0o666);
    return new FileSink(path, tempPath, handle, options);
  }

  get bytesWritten(): number {
    return this.written;
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.state !== 'open') throw new Error(`the file sink for ${this.path} is ${this.state}`);
    let pending: readonly Uint8Array[] = chunks;
    let remaining = totalLength(chunks);
    // writev may write less than asked (e.g. a full disk before its error): continue where it stopped.
    while (remaining > 0) {
      const { bytesWritten } = await this.handle.writev(pending as Uint8Array[]);
      if (bytesWritten <= 0) throw new Error(`short write to ${this.tempPath}`);
      this.written += bytesWritten;
      remaining -= bytesWritten;
      if (remaining > 0) pending = skipBytes(pending, bytesWritten);
    }
  }

  async close(): Promise<void> {
    if (this.state !== 'open') throw new Error(`the file sink for ${this.path} is ${this.state}`);
    try {
      if (this.options.fsync) await this.handle.datasync();
      await this.handle.close();
      await rename(this.tempPath, this.path);
      this.state = 'closed';
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/** The chunks after the first `n` bytes (views, no copies). */
function skipBytes(chunks: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    if (n >= c.length) {
      n -= c.length;
      continue;
    }
    out.push(n > 0 ? c.subarray(n) : c);
    n = 0;
  }
  return out;
}
