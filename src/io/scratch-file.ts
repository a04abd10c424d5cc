/**
 * A private scratch file (a spool, an undo log): created exclusively and 0600
 * (it holds guest memory), removed when done, on failure and on
 * SIGINT/SIGTERM/SIGHUP (./temporaries.ts), never committed anywhere.
 */
import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createTemporary, linkTemporary, removeTemporary, type TemporaryFile } from './temporaries.js';

const uniqueName = (dir: string, label: string) => join(dir, `.${label}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);

export class ScratchFile {
  private removed = false;

  private constructor(
    readonly path: string,
    readonly handle: FileHandle,
    private readonly temporary: TemporaryFile,
  ) {}

  /** A new file at `path`, a name the user chose (which must not exist: an existing file is never touched). */
  static async createAt(path: string): Promise<ScratchFile> {
    // Created under a unique name first, then linked to `path` (EEXIST, never a replace).
    const unique = await ScratchFile.createIn(dirname(path), basename(path));
    try {
      const named = await linkTemporary(unique.temporary, path);
      await removeTemporary(unique.temporary);
      return new ScratchFile(path, unique.handle, named);
    } catch (e) {
      await unique.remove();
      throw e;
    }
  }

  /** A new file with a unique hidden name in `dir`. */
  static async createIn(dir: string, label: string): Promise<ScratchFile> {
    const path = uniqueName(dir, label);
    const { handle, temporary } = await createTemporary(path, () => open(path, 'wx+', 0o600));
    return new ScratchFile(path, handle, temporary);
  }

  /** Close and remove (only if the path still names our file). Safe to call more than once. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await this.handle.close().catch(() => undefined);
    await removeTemporary(this.temporary);
  }
}
