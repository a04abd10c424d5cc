/**
 * A sink that writes a file by path, atomically (src/io/atomic-output.ts):
 * the bytes go to a temporary file in the same directory, renamed to the
 * final name only when close() succeeds. abort() (or a failed write, or
 * SIGINT/SIGTERM/SIGHUP) removes the temporary file, so an aborted or failed
 * writer never leaves a file under the final name. A new file is 0600 (a
 * stream holds guest memory) unless `mode` says otherwise.
 */
import { AtomicOutput, type OutputOptions } from '../io/atomic-output.js';
import type { StreamSink } from './sink.js';

export interface FileSinkOptions {
  /** fsync the data before the rename (durable, slower). Default false. */
  fsync?: boolean;
  /** File mode for a new file (before umask). Default 0o600. */
  mode?: number;
  /** Inputs the file must not be (paths or fds): refused like cp does. */
  inputs?: OutputOptions['inputs'];
  /** Compress the stream as it is written (bytesWritten counts the uncompressed bytes). */
  compress?: OutputOptions['compress'];
}

export class FileSink implements StreamSink {
  private state: 'open' | 'closed' | 'aborted' = 'open';

  private constructor(private readonly output: AtomicOutput) {}

  /** Create the temporary file next to `path`. */
  static async create(path: string, options: FileSinkOptions = {}): Promise<FileSink> {
    const { fsync, mode, inputs, compress } = options;
    return new FileSink(
      await AtomicOutput.open(path, {
        ...(fsync !== undefined ? { fsync } : {}),
        ...(mode !== undefined ? { mode } : {}),
        ...(inputs ? { inputs } : {}),
        ...(compress ? { compress } : {}),
      }),
    );
  }

  /** The final name. */
  get path(): string {
    return this.output.path;
  }

  /** Where the bytes are while the stream is being written (the final name itself for a device or FIFO). */
  get tempPath(): string {
    return this.output.tempPath ?? this.output.path;
  }

  get bytesWritten(): number {
    return this.output.bytesWritten;
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.state !== 'open') throw new Error(`the file sink for ${this.path} is ${this.state}`);
    await this.output.write(chunks);
  }

  async close(): Promise<void> {
    if (this.state !== 'open') throw new Error(`the file sink for ${this.path} is ${this.state}`);
    try {
      await this.output.commit();
      this.state = 'closed';
    } catch (error) {
      this.state = 'aborted';
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.output.discard();
  }
}
