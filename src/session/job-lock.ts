import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
}

export class JobBusyError extends Error {
  constructor(readonly current: MigrationJobRecord) {
    super(`domain ${current.domain} already has a ${current.job} job in phase ${current.phase} (pid ${current.pid})`);
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
 * a small JSON file `<stateDir>/<domain>.job.json`. Acquiring is a hard link
 * of a fully written temporary file, which fails atomically if the file
 * exists; phase changes are temp + rename. A crash therefore leaves a complete,
 * readable record of the last phase, and the domain stays locked until
 * someone looks at it and calls `clear`.
 */
export class MigrationJobStore {
  constructor(readonly stateDir: string) {}

  /** Start a job (`qemuMigrationJobStart` + `SetPhase`); refused while another job holds the domain. */
  async start(domain: string, job: MigrationJobKind, phase: MigrationJobPhase): Promise<MigrationJob> {
    if (!FIRST_PHASES[job].includes(phase)) throw new JobPhaseError(job, 'NONE', phase);
    await mkdir(this.stateDir, { recursive: true });
    const now = new Date().toISOString();
    const record: MigrationJobRecord = { domain, job, phase, phaseValue: phaseValue(phase), pid: process.pid, startedAt: now, updatedAt: now };
    const temp = await this.writeTemp(domain, record);
    try {
      await link(temp, this.pathFor(domain));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const current = await this.read(domain);
      if (current === undefined) throw error;
      throw new JobBusyError(current);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    return new MigrationJob(this, record);
  }

  /** The job recorded for `domain`, if any (also what a crashed job left behind). */
  async read(domain: string): Promise<MigrationJobRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.pathFor(domain), 'utf8')) as MigrationJobRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** `qemuMigrationJobIsActive`: does `domain` have a job of this kind? */
  async isActive(domain: string, job: MigrationJobKind): Promise<boolean> {
    return (await this.read(domain))?.job === job;
  }

  /** Remove a stale record (after a crash has been dealt with). */
  async clear(domain: string): Promise<void> {
    await unlink(this.pathFor(domain)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** @internal used by MigrationJob */
  async replace(record: MigrationJobRecord): Promise<void> {
    const temp = await this.writeTemp(record.domain, record);
    await rename(temp, this.pathFor(record.domain));
  }

  private pathFor(domain: string): string {
    return join(this.stateDir, `${encodeURIComponent(domain)}.job.json`);
  }

  private async writeTemp(domain: string, record: MigrationJobRecord): Promise<string> {
    const temp = join(this.stateDir, `.${encodeURIComponent(domain)}.job.${process.pid}.${randomBytes(4).toString('hex')}`);
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx' });
    return temp;
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
