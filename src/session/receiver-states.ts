import type { MigrationVariant } from './migration-variant.js';
import type { StateMachineDefinition } from './state-machine.js';

/**
 * Receiver (`xl migrate-receive`) states, spec/PROTOCOLS.md §1.3. A state is
 * entered when its step begins:
 *
 * - BANNER_SENT: writing the banner
 * - RECEIVING: receiving and validating the stream into a temporary file
 * - READY_SENT: writing "domain received, ready to unpause"
 * - AWAIT_GO: waiting for "domain is yours…"
 * - STARTING: starting our copy — here: renaming the temporary file to its final name
 * - REPORT_SENT: writing the report and its status byte
 * - DONE: success
 * - DESTROYED: our copy was discarded (temporary file removed)
 * - PERMISSION_SENT: after DESTROYED, the sender was told it may resume
 *
 * Variant state: SYNC_SENT (postcopy RFC) — back channel COMPLETE and the
 * postcopy sync message are being written; the file is renamed after it.
 */
export const RECEIVER_STATES = [
  'BANNER_SENT',
  'RECEIVING',
  'READY_SENT',
  'AWAIT_GO',
  'STARTING',
  'REPORT_SENT',
  'DONE',
  'DESTROYED',
  'PERMISSION_SENT',
  'SYNC_SENT',
] as const;

export type ReceiverState = (typeof RECEIVER_STATES)[number];

const TERMINAL: readonly ReceiverState[] = ['DONE', 'DESTROYED', 'PERMISSION_SENT'];

const NONE: readonly ReceiverState[] = [];

function table(entries: Partial<Record<ReceiverState, readonly ReceiverState[]>>): Record<ReceiverState, readonly ReceiverState[]> {
  const full = Object.fromEntries(RECEIVER_STATES.map((state) => [state, NONE])) as Record<ReceiverState, readonly ReceiverState[]>;
  return { ...full, ...entries };
}

const PLAIN = table({
  BANNER_SENT: ['RECEIVING', 'DESTROYED'],
  RECEIVING: ['READY_SENT', 'DESTROYED'],
  READY_SENT: ['AWAIT_GO', 'DESTROYED'],
  // A missing or wrong GO is reported to the sender with a failure status, like a failed start.
  AWAIT_GO: ['STARTING', 'REPORT_SENT', 'DESTROYED'],
  STARTING: ['REPORT_SENT'],
  REPORT_SENT: ['DONE', 'DESTROYED'],
  DESTROYED: ['PERMISSION_SENT'],
});

const CHECKPOINTED = table({
  BANNER_SENT: ['RECEIVING', 'DESTROYED'],
  RECEIVING: ['DONE', 'DESTROYED'],
});

const POSTCOPY = table({
  BANNER_SENT: ['RECEIVING', 'DESTROYED'],
  RECEIVING: ['SYNC_SENT', 'DESTROYED'],
  SYNC_SENT: ['DONE', 'DESTROYED'],
});

export function receiverDefinition(variant: MigrationVariant): StateMachineDefinition<ReceiverState> {
  const transitions = variant === 'plain' ? PLAIN : variant === 'postcopy' ? POSTCOPY : CHECKPOINTED;
  return { initial: 'BANNER_SENT', transitions, terminal: TERMINAL };
}
