import { mkdir } from 'node:fs/promises';
import { JsonStateFiles } from './json-state-files.js';
import { canChangePhase, FIRST_PHASES, phaseValue, type MigrationJobKind, type MigrationJobPhase } from './job-phase.js';

/** What the state directory holds for a domain while a job runs (and after a crash). */
export interface MigrationJobRecord {
  readonly domain: string;
  readonly job: MigrationJobKind;
  readonly phase: MigrationJobPhase;
  readonly phaseValue: number;
  readonly pid: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** The file a destination's job writes, so what a crash left of it can be found and removed. */
  readonly target?: string | undefined;
}

export class JobBusyError extends Error {
  /** `stale`: the owner pid is gone (a crash left the job; see job-recovery.ts). */
  constructor(
    readonly current: MigrationJobRecord,
    readonly stale = false,
  ) {
    super(
      `domain ${current.domain} already has a ${current.job} job in phase ${current.phase} (pid ${current.pid}${stale ? ', which is gone: a stale job' : ''})`,
    );
    this.name = 'JobBusyError';
  }
}

export class JobPhaseError extends Error {
  constructor(job: MigrationJobKind, from: MigrationJobPhase, to: MigrationJobPhase) {
    super(`${job} job cannot move from phase ${from} to ${to}`);
    this.name = 'JobPhaseError';
  }
}

/**
 * One migration job per domain (spec/PROTOCOLS.md §3), with its phase persisted as
 * a small JSON file `<stateDir>/<domain>.job.json`, written through
 * src/io/atomic-output.ts: acquiring commits without replacing (a hard link,
 * which fails atomically if the file exists); phase changes commit by rename.
 * A crash therefore leaves a complete, readable record of the last phase, and
 * the domain stays locked until someone looks at it and calls `clear`
 * (`stream-migrate jobs` shows whether its owner still runs).
 */
export class MigrationJobStore {
  private readonly files: JsonStateFiles<MigrationJobRecord>;

  constructor(
    readonly stateDir: string,
    private readonly options: MigrationJobStoreOptions = {},
  ) {
    this.files = new JsonStateFiles(stateDir, '.job.json', 'job');
  }

  /** Start a job (`qemuMigrationJobStart` + `SetPhase`); refused while another job holds the domain. */
  async start(domain: string, job: MigrationJobKind, phase: MigrationJobPhase, target?: string): Promise<MigrationJob> {
    if (!FIRST_PHASES[job].includes(phase)) throw new JobPhaseError(job, 'NONE', phase);
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const now = new Date().toISOString();
    const record: MigrationJobRecord = {
      domain,
      job,
      phase,
      phaseValue: phaseValue(phase),
      pid: process.pid,
      startedAt: now,
      updatedAt: now,
      ...(target === undefined ? {} : { target }),
    };
    try {
      await this.files.write(domain, record, true);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const current = await this.read(domain);
      if (current === undefined) throw error;
      throw new JobBusyError(current, !isOwnerRunning(current));
    }
    await this.options.onPhase?.(record);
    return new MigrationJob(this, record);
  }

  /** Every job recorded in the state directory (running or left by a crash), by domain name. */
  async list(): Promise<MigrationJobRecord[]> {
    return this.files.list();
  }

  /** The job recorded for `domain`, if any (also what a crashed job left behind). */
  async read(domain: string): Promise<MigrationJobRecord | undefined> {
    return this.files.read(domain);
  }

  /** `qemuMigrationJobIsActive`: does `domain` have a job of this kind? */
  async isActive(domain: string, job: MigrationJobKind): Promise<boolean> {
    return (await this.read(domain))?.job === job;
  }

  /** Remove a stale record (after a crash has been dealt with). */
  async clear(domain: string): Promise<void> {
    await this.files.remove(domain);
  }

  /** @internal used by MigrationJob */
  async replace(record: MigrationJobRecord): Promise<void> {
    await this.files.write(record.domain, record);
    await this.options.onPhase?.(record);
  }
}

export interface MigrationJobStoreOptions {
  /** Called once a phase is on disk (also the first one). Tests pause here to crash a run at a phase. */
  readonly onPhase?: (record: MigrationJobRecord) => void | Promise<void>;
}

/** Whether the process that owns a job still runs (EPERM: it runs as another user). */
export function isOwnerRunning(record: MigrationJobRecord): boolean {
  try {
    process.kill(record.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held job: advance its phase, then finish it (which releases the domain). */
export class MigrationJob {
  private finished = false;

  constructor(
    private readonly store: MigrationJobStore,
    private current: MigrationJobRecord,
  ) {}

  get domain(): string {
    return this.current.domain;
  }

  get phase(): MigrationJobPhase {
    return this.current.phase;
  }

  get record(): MigrationJobRecord {
    return this.current;
  }

  /** `qemuMigrationJobSetPhase` / `StartPhase`: checked against the phase table, persisted atomically. */
  async setPhase(phase: MigrationJobPhase): Promise<void> {
    if (this.finished) throw new Error(`job for ${this.domain} already finished`);
    if (!canChangePhase(this.current.job, this.current.phase, phase)) throw new JobPhaseError(this.current.job, this.current.phase, phase);
    const next = { ...this.current, phase, phaseValue: phaseValue(phase), updatedAt: new Date().toISOString() };
    await this.store.replace(next);
    this.current = next;
  }

  /** `qemuMigrationJobFinish`: release the domain. */
  async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.store.clear(this.domain);
  }
}
