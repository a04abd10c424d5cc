/**
 * An output file that appears only when complete: bytes go to a temporary file
 * in the same directory (so the rename is atomic), renamed on commit(),
 * deleted on discard(). Supports positional writes (extract's sparse image).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { TextSink } from './text-sink.js';

export class AtomicOutputFile {
  private state: 'open' | 'committed' | 'discarded' = 'open';

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    readonly handle: FileHandle,
  ) {}

  static async create(path: string): Promise<AtomicOutputFile> {
    const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
    const handle = await open(tempPath, 'wx+', 0o666);
    return new AtomicOutputFile(path, tempPath, handle);
  }

  /** Write all of `bytes` at `position` (positional: the file stays sparse where nothing is written). */
  async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, position + done);
      if (bytesWritten <= 0) throw new Error(`short write to ${this.tempPath}`);
      done += bytesWritten;
    }
  }

  async commit(): Promise<void> {
    if (this.state !== 'open') throw new Error(`output ${this.path} already ${this.state}`);
    try {
      await this.handle.close();
      await rename(this.tempPath, this.path);
      this.state = 'committed';
    } catch (e) {
      await this.discard();
      throw e;
    }
  }

  /** Remove the temporary file. Safe to call more than once and after a failed commit. */
  async discard(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'discarded';
    await this.handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }
}

/** Appends text to an AtomicOutputFile (buffered; the file keeps its own position). */
export class FileTextSink implements TextSink {
  private pending: string[] = [];
  private pendingLength = 0;
  private position = 0;

  constructor(private readonly file: AtomicOutputFile) {}

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLength = 0;
    await this.file.writeAt(bytes, this.position);
    this.position += bytes.length;
  }
}

/** Run `fill` against a new output file; commit it if `fill` succeeds, leave nothing behind if it throws. */
export async function withOutputFile<T>(path: string, fill: (file: AtomicOutputFile) => Promise<T>): Promise<T> {
  const file = await AtomicOutputFile.create(path);
  try {
    const result = await fill(file);
    await file.commit();
    return result;
  } catch (e) {
    await file.discard();
    throw e;
  }
}
