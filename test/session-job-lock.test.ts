import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isOwnerRunning, JobBusyError, JobPhaseError, MigrationJobStore } from '../src/session/job-lock.js';
import { MIGRATION_JOB_PHASES, phaseValue } from '../src/session/job-phase.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-jobs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('migration job lock', () => {
  it('phase numbering follows qemuMigrationJobPhase', () => {
    expect(MIGRATION_JOB_PHASES).toEqual([
      'NONE',
      'PERFORM2',
      'BEGIN3',
      'PERFORM3',
      'PERFORM3_DONE',
      'CONFIRM3_CANCELLED',
      'CONFIRM3',
      'PREPARE',
      'FINISH2',
      'FINISH3',
    ]);
    expect(phaseValue('CONFIRM3')).toBe(6);
  });

  it('refuses a concurrent second job on the same domain; exactly one wins', async () => {
    const store = new MigrationJobStore(dir);
    const attempts = await Promise.allSettled([
      store.start('guest', 'MIGRATION_OUT', 'BEGIN3'),
      store.start('guest', 'MIGRATION_OUT', 'BEGIN3'),
      new MigrationJobStore(dir).start('guest', 'MIGRATION_IN', 'PREPARE'),
    ]);
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(refused).toHaveLength(2);
    for (const r of refused) expect(r.reason).toBeInstanceOf(JobBusyError);
    // Another domain is independent.
    await expect(store.start('other', 'MIGRATION_OUT', 'BEGIN3')).resolves.toBeDefined();
  });

  it('a job left by a dead owner is stale: start still refuses it, saying so; list and isOwnerRunning show it', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const store = new MigrationJobStore(dir);
    const job = await store.start('guest', 'MIGRATION_OUT', 'BEGIN3');
    // As if another process had taken it and died (the record is what a crash leaves).
    await writeFile(join(dir, 'guest.job.json'), JSON.stringify({ ...job.record, pid: dead }));
    const refused = await store.start('guest', 'MIGRATION_OUT', 'BEGIN3').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(JobBusyError);
    expect((refused as JobBusyError).stale).toBe(true);
    expect((refused as Error).message).toContain(`(pid ${dead}, which is gone: a stale job)`);
    const [listed] = await store.list();
    expect(listed).toMatchObject({ domain: 'guest', pid: dead });
    expect(isOwnerRunning(listed)).toBe(false);
    expect(isOwnerRunning(job.record)).toBe(true);
  });

  it('source v3 phases BEGIN3 → PERFORM3 → PERFORM3_DONE → CONFIRM3, persisted as JSON; finish releases', async () => {
    const store = new MigrationJobStore(dir);
    const job = await store.start('guest', 'MIGRATION_OUT', 'BEGIN3');
    for (const phase of ['PERFORM3', 'PERFORM3_DONE', 'CONFIRM3'] as const) {
      await job.setPhase(phase);
      expect(await store.read('guest')).toMatchObject({ domain: 'guest', job: 'MIGRATION_OUT', phase, phaseValue: phaseValue(phase), pid: process.pid });
    }
    await job.finish();
    expect(await store.read('guest')).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    await expect(store.start('guest', 'MIGRATION_IN', 'PREPARE')).resolves.toBeDefined();
  });

  it('rejects phases out of order (PERFORM3_DONE only after PERFORM3; destination PREPARE → FINISH3)', async () => {
    const store = new MigrationJobStore(dir);
    const out = await store.start('a', 'MIGRATION_OUT', 'BEGIN3');
    await expect(out.setPhase('PERFORM3_DONE')).rejects.toBeInstanceOf(JobPhaseError);
    await expect(out.setPhase('CONFIRM3_CANCELLED')).resolves.toBeUndefined();
    const incoming = await store.start('b', 'MIGRATION_IN', 'PREPARE');
    await expect(incoming.setPhase('CONFIRM3')).rejects.toBeInstanceOf(JobPhaseError);
    await incoming.setPhase('FINISH3');
    await expect(store.start('c', 'MIGRATION_IN', 'FINISH3')).rejects.toBeInstanceOf(JobPhaseError);
  });

  it('a crashed job leaves a readable phase and keeps the domain locked until cleared', async () => {
    const crashed = new MigrationJobStore(dir);
    const job = await crashed.start('guest', 'MIGRATION_OUT', 'BEGIN3');
    await job.setPhase('PERFORM3');
    // "Crash": the job object is abandoned without finish(). A new process reads the state directory.
    const restarted = new MigrationJobStore(dir);
    const text = await readFile(join(dir, 'guest.job.json'), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ phase: 'PERFORM3', job: 'MIGRATION_OUT' });
    expect(await restarted.isActive('guest', 'MIGRATION_OUT')).toBe(true);
    await expect(restarted.start('guest', 'MIGRATION_OUT', 'BEGIN3')).rejects.toThrow(/phase PERFORM3/);
    await restarted.clear('guest');
    await expect(restarted.start('guest', 'MIGRATION_OUT', 'BEGIN3')).resolves.toBeDefined();
  });
});
