import { JsonStateFiles } from './json-state-files.js';
import type { InstanceSnapshot, InstanceStateStore } from './instance-migration-state.js';

/**
 * The per-instance migration table on disk: one small JSON file per instance
 * (`<stateDir>/<id>.instance.json`) next to its job file, written atomically,
 * so that concurrent migrations of different domains never rewrite each
 * other's rows and a crash leaves the last complete row.
 */
export class InstanceStateFiles implements InstanceStateStore {
  private readonly files: JsonStateFiles<InstanceSnapshot>;

  constructor(readonly stateDir: string) {
    this.files = new JsonStateFiles(stateDir, '.instance.json', 'instance');
  }

  save(snapshot: InstanceSnapshot): Promise<void> {
    return this.files.write(snapshot.instanceId, snapshot);
  }

  remove(instanceId: string): Promise<void> {
    return this.files.remove(instanceId);
  }

  read(instanceId: string): Promise<InstanceSnapshot | undefined> {
    return this.files.read(instanceId);
  }

  list(): Promise<InstanceSnapshot[]> {
    return this.files.list();
  }
}
