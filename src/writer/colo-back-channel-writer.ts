/**
 * COLO back channel (Secondary → Primary, spec/FORMAT.md §9.3): no headers, bare
 * records in a fixed cycle per checkpoint:
 *   CHECKPOINT_STATE(2 SVM_READY), CHECKPOINT_STATE(3 SVM_RESUMED),
 *   CHECKPOINT_STATE(1 SVM_SUSPENDED), libxc CHECKPOINT_DIRTY_PFN_LIST.
 */
import { BackChannelWriterBase } from './back-channel-base.js';
import type { StreamSink } from './sink.js';

export const COLO_CONTROL = { CHECKPOINT_NEW: 0, SVM_SUSPENDED: 1, SVM_READY: 2, SVM_RESUMED: 3 } as const;

export const COLO_BACK_CHANNEL_STATES = ['AWAIT_SVM_READY', 'AWAIT_SVM_RESUMED', 'AWAIT_SVM_SUSPENDED', 'AWAIT_DIRTY_PFN_LIST', 'CLOSED'] as const;
export type ColoBackChannelState = (typeof COLO_BACK_CHANNEL_STATES)[number];

/** The control id each state expects next, and the state after it. */
const CYCLE_STEPS = {
  AWAIT_SVM_READY: { controlId: COLO_CONTROL.SVM_READY, name: 'CHECKPOINT_STATE(2 SVM_READY)', next: 'AWAIT_SVM_RESUMED' },
  AWAIT_SVM_RESUMED: { controlId: COLO_CONTROL.SVM_RESUMED, name: 'CHECKPOINT_STATE(3 SVM_RESUMED)', next: 'AWAIT_SVM_SUSPENDED' },
  AWAIT_SVM_SUSPENDED: { controlId: COLO_CONTROL.SVM_SUSPENDED, name: 'CHECKPOINT_STATE(1 SVM_SUSPENDED)', next: 'AWAIT_DIRTY_PFN_LIST' },
} as const;
const CYCLE: Partial<Record<ColoBackChannelState, { controlId: number; name: string; next: ColoBackChannelState }>> = CYCLE_STEPS;

const STATE_NAMES: Record<number, string> = {
  0: 'CHECKPOINT_STATE(0 NEW)',
  1: CYCLE_STEPS.AWAIT_SVM_SUSPENDED.name,
  2: CYCLE_STEPS.AWAIT_SVM_READY.name,
  3: CYCLE_STEPS.AWAIT_SVM_RESUMED.name,
};

export class ColoBackChannelWriter extends BackChannelWriterBase<ColoBackChannelState> {
  constructor(sink: StreamSink) {
    super(sink, 'AWAIT_SVM_READY', 'upstream');
  }

  allowed(): string[] {
    if (this.current === 'CLOSED') return [];
    const step = CYCLE[this.current];
    // The secondary may stop (failover) between any two records.
    return [step ? step.name : 'CHECKPOINT_DIRTY_PFN_LIST', 'close'];
  }

  protected closedState(): ColoBackChannelState {
    return 'CLOSED';
  }

  /** CHECKPOINT_STATE with `controlId`; must be the one the cycle expects (2, then 3, then 1). */
  async writeCheckpointState(controlId: number): Promise<void> {
    const what = STATE_NAMES[controlId] ?? `CHECKPOINT_STATE(${controlId})`;
    this.require(what, controlId === 0 ? 'CHECKPOINT_NEW travels on the forward stream, not the back channel' : undefined);
    const step = CYCLE[this.current];
    if (!step) this.guard(what, 'no CHECKPOINT_STATE is expected in this state'); // unreachable: require() accepted `what`
    await this.emitRecord('libxl', 'CHECKPOINT_STATE', { kind: 'checkpoint-state', controlId }, step.next);
  }

  async writeSvmReady(): Promise<void> {
    await this.writeCheckpointState(COLO_CONTROL.SVM_READY);
  }

  async writeSvmResumed(): Promise<void> {
    await this.writeCheckpointState(COLO_CONTROL.SVM_RESUMED);
  }

  async writeSvmSuspended(): Promise<void> {
    await this.writeCheckpointState(COLO_CONTROL.SVM_SUSPENDED);
  }

  /** CHECKPOINT_DIRTY_PFN_LIST: the pfns the secondary dirtied (may be empty; no type bits). */
  async writeDirtyPfnList(pfns: ReadonlyArray<number | bigint>): Promise<void> {
    this.require('CHECKPOINT_DIRTY_PFN_LIST');
    const list = pfns.map((p) => BigInt(p));
    for (const p of list) if (p < 0n || p >= 1n << 52n) this.guard('CHECKPOINT_DIRTY_PFN_LIST', `0x${p.toString(16)} is not a pfn`);
    await this.emitRecord('libxc', 'CHECKPOINT_DIRTY_PFN_LIST', { kind: 'dirty-pfn-list', pfns: list }, 'AWAIT_SVM_READY');
  }
}
