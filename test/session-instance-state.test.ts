import { describe, expect, it } from 'vitest';
import { InstanceMigrationTable, type InstanceMigrationState } from '../src/session/instance-migration-state.js';

/** spec/PROTOCOLS.md §5, one test per table row. */
const request = { source: 'node-a', destination: 'node-b' };

async function sourceIn(state: InstanceMigrationState): Promise<InstanceMigrationTable> {
  const table = new InstanceMigrationTable();
  table.add('i-1');
  if (state === 'NOT_MIGRATING') return table;
  await table.apply('i-1', 'prepare', 'source', request);
  if (state === 'READY') return table;
  if (state === 'IN_PROGRESS') {
    await table.apply('i-1', 'commit', 'source');
    return table;
  }
  throw new Error(`cannot reach ${state} from the outside`);
}

describe('source node', () => {
  it('any + prepare → READY (via PREPARING)', async () => {
    const table = await sourceIn('NOT_MIGRATING');
    expect(await table.apply('i-1', 'prepare', 'source', request)).toMatchObject({ code: 'OK', state: 'READY' });
  });

  it('READY + commit → IN_PROGRESS, outgoing count +1, migration started', async () => {
    const started: string[] = [];
    const table = new InstanceMigrationTable({ startMigration: (id) => void started.push(id) });
    table.add('i-1');
    await table.apply('i-1', 'prepare', 'source', request);
    expect(await table.apply('i-1', 'commit', 'source')).toMatchObject({ code: 'OK', state: 'IN_PROGRESS' });
    expect(table.outgoingMigrationsInProgress).toBe(1);
    expect(started).toEqual(['i-1']);
  });

  it('IN_PROGRESS + commit → "duplicate request", unchanged', async () => {
    const table = await sourceIn('IN_PROGRESS');
    expect(await table.apply('i-1', 'commit', 'source')).toEqual({ code: 'DUPLICATE', state: 'IN_PROGRESS', message: 'duplicate request' });
    expect(table.outgoingMigrationsInProgress).toBe(1);
  });

  it("other + commit → not 'ready' error, unchanged", async () => {
    const table = await sourceIn('NOT_MIGRATING');
    const result = await table.apply('i-1', 'commit', 'source');
    expect(result).toMatchObject({ code: 'UNSUPPORTED', state: 'NOT_MIGRATING' });
    expect(result.message).toContain("not 'ready'");
  });

  it('PREPARING or READY + rollback → rollback runs, NOT_MIGRATING', async () => {
    const rolled: string[] = [];
    const table = new InstanceMigrationTable({ rollback: (id) => void rolled.push(id) });
    table.add('i-1');
    await table.apply('i-1', 'prepare', 'source', request);
    expect(await table.apply('i-1', 'rollback', 'source')).toMatchObject({ code: 'OK', state: 'NOT_MIGRATING' });
    expect(rolled).toEqual(['i-1']);
  });

  it('other + rollback → ignored, unchanged', async () => {
    const rolled: string[] = [];
    const table = new InstanceMigrationTable({ rollback: (id) => void rolled.push(id) });
    table.add('i-1');
    await table.apply('i-1', 'prepare', 'source', request);
    await table.apply('i-1', 'commit', 'source');
    const result = await table.apply('i-1', 'rollback', 'source');
    expect(result).toMatchObject({ code: 'OK', state: 'IN_PROGRESS' });
    expect(result.message).toContain('duplicate rollback request?');
    expect(rolled).toEqual([]);
  });

  it('unknown action → invalid', async () => {
    expect(await (await sourceIn('READY')).apply('i-1', 'teleport', 'source')).toMatchObject({ code: 'INVALID', state: 'READY' });
  });

  it('instance not found → not found', async () => {
    expect(await new InstanceMigrationTable().apply('i-404', 'prepare', 'source', request)).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('destination node', () => {
  it('prepare → READY', async () => {
    expect(await new InstanceMigrationTable().apply('i-1', 'prepare', 'destination', request)).toMatchObject({ code: 'OK', state: 'READY' });
  });

  it('prepare failing → CLEANING at once', async () => {
    const table = new InstanceMigrationTable({ prepareDestination: () => Promise.reject(new Error('no disk')) });
    expect(await table.apply('i-1', 'prepare', 'destination', request)).toMatchObject({ code: 'ERROR', state: 'CLEANING' });
  });

  it('commit → rejected', async () => {
    expect(await new InstanceMigrationTable().apply('i-1', 'commit', 'destination')).toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('rollback → CLEANING', async () => {
    const table = new InstanceMigrationTable();
    await table.apply('i-1', 'prepare', 'destination', request);
    expect(await table.apply('i-1', 'rollback', 'destination')).toMatchObject({ code: 'OK', state: 'CLEANING' });
  });

  it('other → invalid', async () => {
    expect(await new InstanceMigrationTable().apply('i-1', 'frobnicate', 'destination')).toMatchObject({ code: 'INVALID' });
  });
});

it('a node that is neither source nor destination → unexpected migration request', async () => {
  expect(await new InstanceMigrationTable().apply('i-1', 'prepare', 'none')).toEqual({ code: 'ERROR', message: 'unexpected migration request' });
});

describe('persisted rows (InstanceStateFiles)', () => {
  it('every change is on disk; a new table restores the rows; complete ends the migration and drops the row', async () => {
    const { mkdtemp, readdir, rm, stat } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { InstanceStateFiles } = await import('../src/session/instance-state-files.js');
    const dir = await mkdtemp(join(tmpdir(), 'instance-rows-'));
    try {
      const files = new InstanceStateFiles(dir);
      const table = new InstanceMigrationTable({}, files);
      table.add('i/1');
      await table.apply('i/1', 'prepare', 'source', request);
      expect(await files.read('i/1')).toMatchObject({ instanceId: 'i/1', role: 'source', state: 'READY', request });
      expect((await stat(join(dir, 'i%2F1.instance.json'))).mode & 0o777).toBe(0o600);
      await table.apply('i/1', 'commit', 'source');
      expect((await files.read('i/1'))?.state).toBe('IN_PROGRESS');

      // After a restart: the row comes back, and counts as an outgoing migration.
      const again = new InstanceMigrationTable({}, files);
      for (const row of await files.list()) again.restore(row);
      expect(again.stateOf('i/1')).toBe('IN_PROGRESS');
      expect(again.outgoingMigrationsInProgress).toBe(1);
      expect(await again.apply('i/1', 'commit', 'source')).toMatchObject({ code: 'DUPLICATE' });
      expect(await again.complete('i/1')).toMatchObject({ code: 'OK', state: 'NOT_MIGRATING' });
      expect(again.outgoingMigrationsInProgress).toBe(0);
      expect(await readdir(dir)).toEqual([]);

      // A rollback back to NOT_MIGRATING removes the row too.
      await again.apply('i/1', 'prepare', 'source', request);
      await again.apply('i/1', 'rollback', 'source');
      expect(await files.list()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
