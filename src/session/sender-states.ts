import type { MigrationVariant } from './migration-variant.js';
import type { StateMachineDefinition } from './state-machine.js';

/**
 * Sender (`xl migrate`) states, spec/PROTOCOLS.md §1.3. A state is entered when
 * its step begins, so a failure is attributed to the step that was running:
 *
 * - PREAMBLE: waiting for the receiver's banner
 * - STREAMING: writing the xl header and the libxl stream
 * - AWAIT_READY: waiting for "domain received, ready to unpause"
 * - RENAMED: renaming the source domain to NAME--migratedaway
 * - GO_SENT: writing "domain is yours…" — the point of no return
 * - AWAIT_REPORT: waiting for the report and its status byte
 * - AWAIT_PERMISSION: the receiver failed; waiting for permission to resume
 * - DONE_OK: success, source destroyed
 * - RESUMED: failure before the point of no return (or with permission); the source runs
 * - FAILED_BADLY: failure after the point of no return; state undefined, manual cleanup
 *
 * Variant states (not in xl's plain table):
 * - AWAIT_FAILOVER (remus/colo): stream ended (= primary gone), waiting for the receiver to close
 * - POSTCOPY_TRANSITIONED (postcopy RFC): POSTCOPY_TRANSITION_END went out (seed 004's
 *   `postcopy_transitioned`); the guest may run at the destination, the rest of the stream follows
 * - AWAIT_SYNC (postcopy RFC): reading the back channel and the postcopy sync message
 * - POSTCOPY_INCONSISTENT (postcopy RFC): failure after the transition; source renamed, not resumed
 */
export const SENDER_STATES = [
  'PREAMBLE',
  'STREAMING',
  'AWAIT_READY',
  'RENAMED',
  'GO_SENT',
  'AWAIT_REPORT',
  'DONE_OK',
  'AWAIT_PERMISSION',
  'RESUMED',
  'FAILED_BADLY',
  'AWAIT_FAILOVER',
  'AWAIT_SYNC',
  'POSTCOPY_INCONSISTENT',
  'POSTCOPY_TRANSITIONED',
] as const;

export type SenderState = (typeof SENDER_STATES)[number];

const TERMINAL: readonly SenderState[] = ['DONE_OK', 'RESUMED', 'FAILED_BADLY', 'POSTCOPY_INCONSISTENT'];

const NONE: readonly SenderState[] = [];

const PLAIN: Record<SenderState, readonly SenderState[]> = {
  PREAMBLE: ['STREAMING', 'RESUMED'],
  STREAMING: ['AWAIT_READY', 'RESUMED'],
  AWAIT_READY: ['RENAMED', 'RESUMED'],
  RENAMED: ['GO_SENT', 'RESUMED'],
  GO_SENT: ['AWAIT_REPORT', 'FAILED_BADLY'],
  AWAIT_REPORT: ['DONE_OK', 'AWAIT_PERMISSION', 'FAILED_BADLY'],
  AWAIT_PERMISSION: ['RESUMED', 'FAILED_BADLY'],
  DONE_OK: NONE,
  RESUMED: NONE,
  FAILED_BADLY: NONE,
  AWAIT_FAILOVER: NONE,
  AWAIT_SYNC: NONE,
  POSTCOPY_INCONSISTENT: NONE,
  POSTCOPY_TRANSITIONED: NONE,
};

const CHECKPOINTED: Record<SenderState, readonly SenderState[]> = {
  ...emptyTable(),
  PREAMBLE: ['STREAMING', 'RESUMED'],
  STREAMING: ['AWAIT_FAILOVER', 'RESUMED'],
  AWAIT_FAILOVER: ['DONE_OK', 'RESUMED'],
};

const POSTCOPY: Record<SenderState, readonly SenderState[]> = {
  ...emptyTable(),
  PREAMBLE: ['STREAMING', 'RESUMED'],
  // A stream without a transition ends in AWAIT_SYNC straight from STREAMING (the receiver then judges it).
  STREAMING: ['POSTCOPY_TRANSITIONED', 'AWAIT_SYNC', 'RESUMED'],
  POSTCOPY_TRANSITIONED: ['AWAIT_SYNC', 'POSTCOPY_INCONSISTENT'],
  AWAIT_SYNC: ['DONE_OK', 'POSTCOPY_INCONSISTENT'],
};

function emptyTable(): Record<SenderState, readonly SenderState[]> {
  return Object.fromEntries(SENDER_STATES.map((state) => [state, NONE])) as Record<SenderState, readonly SenderState[]>;
}

export function senderDefinition(variant: MigrationVariant): StateMachineDefinition<SenderState> {
  const transitions = variant === 'plain' ? PLAIN : variant === 'postcopy' ? POSTCOPY : CHECKPOINTED;
  return { initial: 'PREAMBLE', transitions, terminal: TERMINAL };
}

/** The failure state a sender falls into from `state` (spec/PROTOCOLS.md §1.3 "failure handling"). */
export function senderFailureState(state: SenderState): SenderState {
  switch (state) {
    case 'GO_SENT':
    case 'AWAIT_REPORT':
    case 'AWAIT_PERMISSION':
    case 'DONE_OK':
      return 'FAILED_BADLY';
    case 'POSTCOPY_TRANSITIONED':
    case 'AWAIT_SYNC':
      return 'POSTCOPY_INCONSISTENT';
    default:
      return 'RESUMED';
  }
}
