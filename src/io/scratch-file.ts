/**
 * A private scratch file (a spool, an undo log): created exclusively and 0600
 * (it holds guest memory), removed when done, on failure and on
 * SIGINT/SIGTERM/SIGHUP (./temporaries.ts), never committed anywhere.
 */
import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { registerTemporary, removeTemporary, type TemporaryFile } from './temporaries.js';

export class ScratchFile {
  private removed = false;

  private constructor(
    readonly path: string,
    readonly handle: FileHandle,
    private readonly temporary: TemporaryFile,
  ) {}

  /** A new file at `path` (which must not exist). */
  static async createAt(path: string): Promise<ScratchFile> {
    const handle = await open(path, 'wx+', 0o600);
    const st = await handle.stat();
    const temporary = { path, dev: st.dev, ino: st.ino };
    registerTemporary(temporary);
    return new ScratchFile(path, handle, temporary);
  }

  /** A new file with a unique hidden name in `dir`. */
  static async createIn(dir: string, label: string): Promise<ScratchFile> {
    return ScratchFile.createAt(join(dir, `.${label}.${process.pid}-${randomBytes(4).toString('hex')}.partial`));
  }

  /** Close and remove (only if the path still names our file). Safe to call more than once. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await this.handle.close().catch(() => undefined);
    await removeTemporary(this.temporary);
  }
}
