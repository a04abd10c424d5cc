import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { withOutput } from '../io/atomic-output.js';
import type { InstanceSnapshot, InstanceStateStore } from './instance-migration-state.js';

const SUFFIX = '.instance.json';

/**
 * The per-instance migration table on disk: one small JSON file per instance
 * (`<stateDir>/<id>.instance.json`) next to its job file, written atomically,
 * so that concurrent migrations of different domains never rewrite each
 * other's rows and a crash leaves the last complete row.
 */
export class InstanceStateFiles implements InstanceStateStore {
  constructor(readonly stateDir: string) {}

  async save(snapshot: InstanceSnapshot): Promise<void> {
    const text = `${JSON.stringify(snapshot, null, 2)}\n`;
    await withOutput(this.pathFor(snapshot.instanceId), { tag: 'instance' }, (output) => output.write([Buffer.from(text)]));
  }

  async remove(instanceId: string): Promise<void> {
    await unlink(this.pathFor(instanceId)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  async read(instanceId: string): Promise<InstanceSnapshot | undefined> {
    try {
      return JSON.parse(await readFile(this.pathFor(instanceId), 'utf8')) as InstanceSnapshot;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async list(): Promise<InstanceSnapshot[]> {
    let names: string[];
    try {
      names = await readdir(this.stateDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const rows: InstanceSnapshot[] = [];
    for (const name of names.filter((n) => n.endsWith(SUFFIX) && !n.startsWith('.')).sort()) {
      const row = await this.read(decodeURIComponent(name.slice(0, -SUFFIX.length)));
      if (row !== undefined) rows.push(row);
    }
    return rows;
  }

  private pathFor(instanceId: string): string {
    return join(this.stateDir, `${encodeURIComponent(instanceId)}${SUFFIX}`);
  }
}
