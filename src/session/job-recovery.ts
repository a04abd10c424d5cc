import { isOwnerRunning, type MigrationJobRecord } from './job-lock.js';

/**
 * What to do with a job whose owner is gone, after libvirt's recovery of
 * migration jobs at daemon restart (qemuProcessRecoverMigrationOut / In):
 *  - rollback: nothing was sent; release the job, the source was never touched;
 *  - resume-source: the migration did not complete; the source runs on;
 *  - kill-source: the destination kept the domain; the source goes;
 *  - discard-incoming: the destination never reached Finish; what arrived is dropped;
 *  - release-incoming: Finish was under way; its output is whole or absent (outputs appear only complete);
 *  - ask: the outcome cannot be known from here; an operator checks the destination, then clears.
 */
export type RecoveryAction = 'rollback' | 'resume-source' | 'kill-source' | 'discard-incoming' | 'release-incoming' | 'ask';

export interface JobDiagnosis {
  readonly record: MigrationJobRecord;
  /** The owner pid no longer runs (the job was left by a crash or kill). */
  readonly stale: boolean;
  readonly action: RecoveryAction;
  /** Where the job was when its owner stopped, e.g. "Begin: nothing was sent, the source was not touched". */
  readonly where: string;
  /** One sentence: running, or where the stale job stopped and what happens to it. */
  readonly explanation: string;
}

/** What recovery did, for the log line of the run that did it. */
export const RECOVERY_DONE: Record<RecoveryAction, string> = {
  rollback: 'rolled back',
  'resume-source': 'source resumed, rolled back',
  'kill-source': 'source removed: that migration had succeeded',
  'discard-incoming': 'what arrived was discarded',
  'release-incoming': 'released',
  ask: 'left for an operator',
};

const OUT: Partial<Record<MigrationJobRecord['phase'], { action: RecoveryAction; where: string }>> = {
  BEGIN3: { action: 'rollback', where: 'Begin: nothing was sent, the source was not touched' },
  PERFORM3: { action: 'resume-source', where: 'Perform: the stream was being sent, the source may be paused' },
  PERFORM3_DONE: { action: 'ask', where: 'Perform done: the whole stream was sent, whether the destination kept the domain is unknown' },
  CONFIRM3_CANCELLED: { action: 'resume-source', where: 'Confirm (cancelled): the migration had failed, the source was being resumed' },
  CONFIRM3: { action: 'kill-source', where: 'Confirm: the destination kept the domain, the source was being removed' },
};

const IN: Partial<Record<MigrationJobRecord['phase'], { action: RecoveryAction; where: string }>> = {
  PREPARE: { action: 'discard-incoming', where: 'Prepare: the stream was being received, Finish never ran' },
  FINISH3: { action: 'release-incoming', where: 'Finish: the received stream was being checked and kept or dropped' },
  FINISH2: { action: 'release-incoming', where: 'Finish: the received stream was being checked and kept or dropped' },
};

const WHAT_NEXT: Record<RecoveryAction, string> = {
  rollback: 'the next migrate rolls it back and starts over',
  'resume-source': 'the next migrate resumes the source, rolls back and starts over',
  'kill-source': 'the next migrate completes it (the source is removed) and does not migrate again',
  'discard-incoming': 'the next migrate discards what arrived and starts over',
  'release-incoming': 'the next migrate releases it; the output is complete if it exists',
  ask: 'check whether the destination runs the domain, then `stream-migrate jobs --clear DOMAIN`',
};

/**
 * `incoming`: this host's MIGRATION_IN record for the same domain (a local
 * destination). While it is still in PREPARE, Finish never ran, so a source
 * stuck after Perform can safely be resumed.
 */
export function diagnoseJob(record: MigrationJobRecord, options: { running?: boolean; incoming?: MigrationJobRecord | undefined } = {}): JobDiagnosis {
  const running = options.running ?? isOwnerRunning(record);
  const table = record.job === 'MIGRATION_OUT' ? OUT : IN;
  let entry = table[record.phase] ?? { action: 'ask' as const, where: `phase ${record.phase}` };
  if (entry.action === 'ask' && record.phase === 'PERFORM3_DONE' && options.incoming?.phase === 'PREPARE') {
    entry = { action: 'resume-source', where: `${entry.where}; the local destination never reached Finish` };
  }
  const explanation = running ? 'running' : `stale: owner pid ${record.pid} is gone; it stopped in ${entry.where}; ${WHAT_NEXT[entry.action]}`;
  return { record, stale: !running, action: entry.action, where: entry.where, explanation };
}
