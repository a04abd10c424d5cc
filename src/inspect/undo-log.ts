/**
 * The pages a checkpoint overwrote, saved so they can be put back if the
 * checkpoint never completes. Entries ([u64 pfn][4096-byte page]) are buffered
 * up to 4 MiB and then spilled to a temporary file, so memory stays bounded
 * however many pages a checkpoint dirties. The spill file holds guest memory:
 * a 0600 scratch file, removed on close, on failure and on SIGINT/SIGTERM/SIGHUP.
 */
import type { FileHandle } from 'node:fs/promises';
import { PAGE_SIZE } from '../format/constants.js';
import { ScratchFile } from '../io/scratch-file.js';

const ENTRY = 8 + PAGE_SIZE;
const BUFFER_ENTRIES = 1024;

export class UndoLog {
  private scratch?: ScratchFile | undefined;
  private file?: FileHandle | undefined;
  private fileEntries = 0;
  private readonly buffer = Buffer.alloc(BUFFER_ENTRIES * ENTRY);
  private buffered = 0;

  constructor(private readonly dir: string) {}

  get size(): number {
    return this.fileEntries + this.buffered;
  }

  async save(pfn: number, page: Uint8Array): Promise<void> {
    if (this.buffered === BUFFER_ENTRIES) await this.spill();
    const at = this.buffered * ENTRY;
    this.buffer.writeBigUInt64LE(BigInt(pfn), at);
    this.buffer.set(page, at + 8);
    this.buffered++;
  }

  /** Every saved (pfn, page), oldest first. */
  async forEach(visit: (pfn: number, page: Uint8Array) => Promise<void>): Promise<void> {
    if (this.file) {
      const chunk = Buffer.alloc(BUFFER_ENTRIES * ENTRY);
      for (let done = 0; done < this.fileEntries; ) {
        const n = Math.min(BUFFER_ENTRIES, this.fileEntries - done);
        const { bytesRead } = await this.file.read(chunk, 0, n * ENTRY, done * ENTRY);
        if (bytesRead !== n * ENTRY) throw new Error(`undo log ${this.scratch?.path}: short read`);
        for (let i = 0; i < n; i++) await visit(Number(chunk.readBigUInt64LE(i * ENTRY)), chunk.subarray(i * ENTRY + 8, (i + 1) * ENTRY));
        done += n;
      }
    }
    for (let i = 0; i < this.buffered; i++) await visit(Number(this.buffer.readBigUInt64LE(i * ENTRY)), this.buffer.subarray(i * ENTRY + 8, (i + 1) * ENTRY));
  }

  /** Forget everything (the checkpoint completed). */
  async clear(): Promise<void> {
    this.buffered = 0;
    if (this.file && this.fileEntries > 0) await this.file.truncate(0);
    this.fileEntries = 0;
  }

  async close(): Promise<void> {
    if (!this.scratch) return;
    await this.scratch.remove().catch(() => undefined);
    this.scratch = undefined;
    this.file = undefined;
  }

  private async spill(): Promise<void> {
    if (!this.file) {
      this.scratch = await ScratchFile.createIn(this.dir, 'stream-inspect-undo');
      this.file = this.scratch.handle;
    }
    const bytes = this.buffered * ENTRY;
    let done = 0;
    while (done < bytes) {
      const { bytesWritten } = await this.file.write(this.buffer, done, bytes - done, this.fileEntries * ENTRY + done);
      done += bytesWritten;
    }
    this.fileEntries += this.buffered;
    this.buffered = 0;
  }
}
