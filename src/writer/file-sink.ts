/**
 * A sink that writes a file by path, atomically: the bytes go to a temporary
 * file in the same directory, which is renamed to the final name only when
 * close() succeeds. abort() (or a failed write) deletes the temporary file, so
 * an aborted or failed writer never leaves a file under the final name.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PositionedWrites } from './positioned-writes.js';
import { totalLength, type StreamSink } from './sink.js';

export interface FileSinkOptions {
  /** fsync the data before the rename (durable, slower). Default false. */
  fsync?: boolean;
  /** File mode for a new file (before umask). Default 0o666. */
  mode?: number;
  /**
   * Records written at once (default 1). With 1, write() resolves when the
   * record is in the file and its buffers are free again (StreamSink's
   * contract). Above 1, each record goes as a positioned write and write()
   * resolves as soon as it has started (so the caller builds the next record
   * while the kernel copies this one): the caller promises never to change a
   * buffer it has handed over, until close() resolves. synth and rewrite give
   * every record fresh buffers and use 2: the writes to one file take turns in
   * the kernel anyway (inode lock), two already overlap building a record with
   * writing the one before.
   */
  inFlight?: number;
  /** With inFlight above 1: bytes in flight at once (default 16 MiB; one bigger record still goes, alone). */
  inFlightBytes?: number;
}

export class FileSink implements StreamSink {
  private written = 0;
  private state: 'open' | 'closed' | 'aborted' = 'open';
  /** Writes in flight (inFlight above 1), else undefined: one write at a time. */
  private readonly writes?: PositionedWrites;

  private constructor(
    /** The final name. */
    readonly path: string,
    /** Where the bytes are while the stream is being written. */
    readonly tempPath: string,
    private readonly handle: FileHandle,
    private readonly options: FileSinkOptions,
  ) {
    const inFlight = options.inFlight ?? 1;
    if (inFlight > 1) this.writes = new PositionedWrites({ writes: inFlight, bytes: options.inFlightBytes ?? 16 << 20 });
  }

  /** Create the temporary file next to `path`. */
  static async create(path: string, options: FileSinkOptions = {}): Promise<FileSink> {
    const inFlight = options.inFlight ?? 1;
    if (!Number.isSafeInteger(inFlight) || inFlight < 1) throw new RangeError(`inFlight must be a positive integer, got ${inFlight}`);
    const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
    const handle = await open(tempPath, 'wx', options.mode ?? 0o666);
    return new FileSink(path, tempPath, handle, options);
  }

  get bytesWritten(): number {
    return this.written;
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.state !== 'open') throw new Error(`the file sink for ${this.path} is ${this.state}`);
    const length = totalLength(chunks);
    if (this.writes) {
      const position = this.written;
      this.written += length;
      await this.writes.write(position, length, () => this.writeAll(chunks, position));
      return;
    }
    await this.writeAll(chunks, null);
  }

  /** Write all of `chunks` at `position` (null: at the file's offset). */
  private async writeAll(chunks: readonly Uint8Array[], position: number | null): Promise<void> {
    let pending: readonly Uint8Array[] = chunks;
    let remaining = totalLength(chunks);
    let at = position;
    // writev may write less than asked (e.g. a full disk before its error): continue where it stopped.
    while (remaining > 0) {
      const { bytesWritten } = await this.handle.writev(pending as Uint8Array[], at ?? undefined);
      if (bytesWritten <= 0) throw new Error(`short write to ${this.tempPath}`);
      remaining -= bytesWritten;
      if (at === null) this.written += bytesWritten;
      else at += bytesWritten;
      if (remaining > 0) pending = skipBytes(pending, bytesWritten);
    }
  }

  async close(): Promise<void> {
    if (this.state !== 'open') throw new Error(`the file sink for ${this.path} is ${this.state}`);
    try {
      await this.writes?.drain();
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
    // No write may still be running when the descriptor closes (its number could be reused).
    await this.writes?.drain().catch(() => undefined);
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
