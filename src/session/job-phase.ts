/**
 * Migration job phases after libvirt's QEMU driver (spec/PROTOCOLS.md §3). The
 * array order is the enum's numeric value (`qemuMigrationJobPhase`).
 */
export const MIGRATION_JOB_PHASES = [
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
] as const;

export type MigrationJobPhase = (typeof MIGRATION_JOB_PHASES)[number];

/** MIGRATION_OUT on the source (Begin … Confirm), MIGRATION_IN on the destination (Prepare … Finish). */
export type MigrationJobKind = 'MIGRATION_OUT' | 'MIGRATION_IN';

export function phaseValue(phase: MigrationJobPhase): number {
  return MIGRATION_JOB_PHASES.indexOf(phase);
}

/** Phases a job may start in. */
export const FIRST_PHASES: Readonly<Record<MigrationJobKind, readonly MigrationJobPhase[]>> = {
  MIGRATION_OUT: ['BEGIN3', 'PERFORM2'],
  MIGRATION_IN: ['PREPARE'],
};

/**
 * Legal phase changes. Source v3: BEGIN3 → PERFORM3 → PERFORM3_DONE → CONFIRM3,
 * or CONFIRM3_CANCELLED from any of them; PERFORM3_DONE is set only after a
 * successful Perform. Destination: PREPARE → FINISH3 (v3) or FINISH2 (v2).
 */
export const PHASE_TRANSITIONS: Readonly<Record<MigrationJobKind, Readonly<Partial<Record<MigrationJobPhase, readonly MigrationJobPhase[]>>>>> = {
  MIGRATION_OUT: {
    BEGIN3: ['PERFORM3', 'CONFIRM3_CANCELLED'],
    PERFORM3: ['PERFORM3_DONE', 'CONFIRM3_CANCELLED'],
    PERFORM3_DONE: ['CONFIRM3', 'CONFIRM3_CANCELLED'],
  },
  MIGRATION_IN: {
    PREPARE: ['FINISH3', 'FINISH2'],
  },
};

export function canChangePhase(job: MigrationJobKind, from: MigrationJobPhase, to: MigrationJobPhase): boolean {
  return PHASE_TRANSITIONS[job][from]?.includes(to) ?? false;
}
