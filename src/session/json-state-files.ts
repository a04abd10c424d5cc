import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { withOutput } from '../io/atomic-output.js';

/**
 * A directory of small JSON state files, one per key (`<dir>/<key><suffix>`,
 * the key URI-encoded so any domain or instance name is one safe file name),
 * each written atomically: a crash leaves the last complete file, never a
 * torn one. The job lock and the per-instance table both keep their rows here.
 */
export class JsonStateFiles<T> {
  constructor(
    readonly dir: string,
    private readonly suffix: string,
    private readonly tag: string,
  ) {}

  pathFor(key: string): string {
    return join(this.dir, `${encodeURIComponent(key)}${this.suffix}`);
  }

  /** Write `value` under `key`; with `exclusive`, fail (EEXIST) if a file is already there. */
  async write(key: string, value: T, exclusive = false): Promise<void> {
    const text = `${JSON.stringify(value, null, 2)}\n`;
    await withOutput(this.pathFor(key), { noReplace: exclusive, tag: this.tag }, (output) => output.write([Buffer.from(text)]));
  }

  async read(key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.pathFor(key), 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    await unlink(this.pathFor(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Every stored value, by key order (temporaries, which start with a dot, are not values). */
  async list(): Promise<T[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const values: T[] = [];
    for (const name of names.filter((n) => n.endsWith(this.suffix) && !n.startsWith('.')).sort()) {
      const value = await this.read(decodeURIComponent(name.slice(0, -this.suffix.length)));
      if (value !== undefined) values.push(value);
    }
    return values;
  }
}
