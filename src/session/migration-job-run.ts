import { readdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { DeviceMigrationHook } from './device-hooks.js';
import { InstanceMigrationTable } from './instance-migration-state.js';
import { InstanceStateFiles } from './instance-state-files.js';
import { isOwnerRunning, JobBusyError, MigrationJobStore, type MigrationJobRecord } from './job-lock.js';
import { diagnoseJob, RECOVERY_DONE, type JobDiagnosis } from './job-recovery.js';
import { migrateV3, V3Destination, V3Source, type V3DestinationSide, type V3Result, type V3SourceEnd, type V3SourceSide } from './migration-v3.js';
import type { SourceDomain } from './source-domain.js';
import type { SessionTimeouts } from './timeouts.js';
import type { XlV3Peer } from './xl-v3-peer.js';

export type MigrationDestination =
  | { readonly kind: 'local'; readonly outputPath: string }
  | { readonly kind: 'xl'; readonly peer: XlV3Peer; readonly uri: string };

export interface MigrationRunOptions {
  /** Job and instance files: `<stateDir>/<domain>.job.json`, `.instance.json`; a local destination's under `incoming/`. */
  readonly stateDir: string;
  readonly domain: SourceDomain;
  readonly stream: () => AsyncIterable<Uint8Array>;
  readonly destination: MigrationDestination;
  readonly deviceHooks?: readonly DeviceMigrationHook[];
  readonly live?: boolean;
  readonly timeouts?: Partial<SessionTimeouts>;
  /** Called once each phase is on disk (tests stop a run here to crash it at a phase). */
  readonly onPhase?: (record: MigrationJobRecord) => void | Promise<void>;
  readonly log?: (line: string) => void;
}

export interface MigrationRunResult extends V3Result {
  /** Stale jobs of an earlier run found and dealt with first. */
  readonly recovered: readonly JobDiagnosis[];
}

/** A stale job whose outcome cannot be known here: an operator must look at the destination, then clear it. */
export class JobNeedsAttentionError extends Error {
  constructor(readonly diagnosis: JobDiagnosis) {
    super(`domain ${diagnosis.record.domain} has a ${diagnosis.record.job} job in phase ${diagnosis.record.phase}: ${diagnosis.explanation}`);
    this.name = 'JobNeedsAttentionError';
  }
}

/** Where a local destination keeps its MIGRATION_IN jobs (the source's and destination's locks are separate, as on two hosts). */
export function incomingStateDir(stateDir: string): string {
  return join(stateDir, 'incoming');
}

/**
 * `stream-migrate migrate`: recover what an earlier run of the same domain
 * left (recoverStaleJobs), then the v3 flow with the source's job lock and
 * phases, and the per-instance row (prepare in Begin, commit in Perform,
 * rollback or completion in Confirm), all persisted in `stateDir`.
 */
export async function runMigration(options: MigrationRunOptions): Promise<MigrationRunResult> {
  const { stateDir, domain } = options;
  const recovery = await recoverStaleJobs(stateDir, domain);
  for (const d of recovery.diagnoses) {
    options.log?.(`recovered the stale ${d.record.job} job of ${d.record.domain} (pid ${d.record.pid} gone in ${d.where}): ${RECOVERY_DONE[d.action]}`);
  }
  if (recovery.completed) {
    return { ok: true, state: 'SRC_KILLED', history: ['CONFIRM', 'SRC_KILLED'], recovered: recovery.diagnoses };
  }
  const onPhase = options.onPhase === undefined ? {} : { onPhase: options.onPhase };
  const table = new InstanceMigrationTable({}, new InstanceStateFiles(stateDir));
  table.add(domain.name);
  const destination: V3DestinationSide =
    options.destination.kind === 'local'
      ? new V3Destination({
          jobs: new MigrationJobStore(incomingStateDir(stateDir), onPhase),
          outputPath: options.destination.outputPath,
          ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
        })
      : options.destination.peer;
  const where = options.destination.kind === 'local' ? options.destination.outputPath : options.destination.uri;
  const v3 = new V3Source({
    domain,
    destination: where,
    jobs: new MigrationJobStore(stateDir, onPhase),
    stream: options.stream,
    ...(options.deviceHooks === undefined ? {} : { deviceHooks: options.deviceHooks }),
    ...(options.live === undefined ? {} : { live: options.live }),
    ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
    ...(options.destination.kind === 'xl' ? { transfer: options.destination.peer.transfer } : {}),
  });
  const result = await migrateV3(new TrackedSource(v3, table, domain.name, where), destination);
  return { ...result, recovered: recovery.diagnoses };
}

/** The source's steps with the instance row moved alongside: prepare, commit, then completion or rollback. */
class TrackedSource implements V3SourceSide {
  constructor(
    private readonly v3: V3Source,
    private readonly table: InstanceMigrationTable,
    private readonly instanceId: string,
    private readonly destination: string,
  ) {}

  async begin(): Promise<string> {
    const cookie = await this.v3.begin();
    const prepared = await this.table.apply(this.instanceId, 'prepare', 'source', { source: hostname(), destination: this.destination });
    if (prepared.code !== 'OK') {
      await this.v3.confirm(undefined);
      throw new Error(`instance ${this.instanceId}: ${prepared.message}`);
    }
    return cookie;
  }

  async perform(prepareCookie: string): Promise<string> {
    const committed = await this.table.apply(this.instanceId, 'commit', 'source');
    if (committed.code !== 'OK') throw new Error(`instance ${this.instanceId}: ${committed.message}`);
    return this.v3.perform(prepareCookie);
  }

  async confirm(finishCookie: string | undefined): Promise<V3SourceEnd> {
    const end = await this.v3.confirm(finishCookie);
    // Left paused: the row stays IN_PROGRESS with the job, for `jobs` and the operator.
    if (end === 'SRC_LEFT_PAUSED') return end;
    if (this.table.stateOf(this.instanceId) === 'IN_PROGRESS') await this.table.complete(this.instanceId);
    else await this.table.apply(this.instanceId, 'rollback', 'source');
    return end;
  }
}

/**
 * Deal with what a crashed or killed run left for `domain`: a job whose
 * owner still runs is refused (JobBusyError); a stale one is rolled back,
 * resumed or completed by its phase (src/session/job-recovery.ts), its
 * instance row with it; one whose outcome is unknown throws
 * JobNeedsAttentionError. `completed`: the earlier run had in fact succeeded.
 */
export async function recoverStaleJobs(stateDir: string, domain: SourceDomain): Promise<{ diagnoses: JobDiagnosis[]; completed: boolean }> {
  const outStore = new MigrationJobStore(stateDir);
  const inStore = new MigrationJobStore(incomingStateDir(stateDir));
  const out = await outStore.read(domain.name);
  const incoming = await inStore.read(domain.name);
  for (const record of [out, incoming]) if (record !== undefined && isOwnerRunning(record)) throw new JobBusyError(record);
  const diagnoses: JobDiagnosis[] = [];
  let completed = false;
  if (out !== undefined) {
    const diagnosis = diagnoseJob(out, { running: false, incoming });
    if (diagnosis.action === 'ask') throw new JobNeedsAttentionError(diagnosis);
    if (diagnosis.action === 'resume-source') await domain.resume?.();
    if (diagnosis.action === 'kill-source') {
      await domain.destroy?.();
      completed = true;
    }
    await settleInstanceRow(stateDir, domain.name);
    await outStore.clear(domain.name);
    diagnoses.push(diagnosis);
  }
  if (incoming !== undefined) {
    const diagnosis = diagnoseJob(incoming, { running: false });
    await removeLeftovers(incoming);
    await inStore.clear(domain.name);
    diagnoses.push(diagnosis);
  }
  return { diagnoses, completed };
}

/** The instance row of a stale job: IN_PROGRESS completes (the migration ended, badly), PREPARING/READY roll back. */
export async function settleInstanceRow(stateDir: string, instanceId: string): Promise<void> {
  const files = new InstanceStateFiles(stateDir);
  const row = await files.read(instanceId);
  if (row === undefined) return;
  const table = new InstanceMigrationTable({}, files);
  table.restore(row);
  if (row.state === 'IN_PROGRESS') await table.complete(instanceId);
  else await table.apply(instanceId, 'rollback', row.role);
  await files.remove(instanceId);
}

/**
 * A killed destination's temporary capture (`.NAME.<pid>-<random>.incoming`,
 * src/io/atomic-output.ts): never a committed file (commit renames it away),
 * holds guest memory, removed.
 */
export async function removeLeftovers(record: MigrationJobRecord): Promise<void> {
  if (record.target === undefined) return;
  const dir = dirname(record.target);
  const prefix = `.${basename(record.target)}.${record.pid}-`;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) if (name.startsWith(prefix) && name.endsWith('.incoming')) await unlink(join(dir, name)).catch(() => undefined);
}
