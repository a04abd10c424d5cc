import type { RecordBody } from '../codec/records.js';
import { BackChannelDecoder } from '../reader/back-channel.js';
import type { InputChannel } from './input-channel.js';
import { describeBytes, ProtocolError } from './protocol-error.js';
import { describeStreamFailure } from './stream-tracker.js';

/** What the primary read on a COLO back channel. */
export interface ColoBackChannelSummary {
  readonly svmReady: number;
  readonly svmResumed: number;
  readonly svmSuspended: number;
  readonly dirtyPfnLists: number;
  /** Pfns in all the dirty lists (the primary merges them into its dirty bitmap). */
  readonly dirtyPfns: number;
  readonly bytes: number;
}

/** How often the reading loop looks up while the back channel is silent (it may be, for a whole first checkpoint). */
const POLL_MS = 1000;
const SVM = { 1: 'svmSuspended', 2: 'svmReady', 3: 'svmResumed' } as const;

/**
 * The COLO primary's reading of the secondary's back channel (spec/FORMAT.md
 * §9.3): runs alongside the forward stream, from the banner until the
 * receiver closes, and checks every record with the reader's back-channel
 * decoder (the SVM_READY, SVM_RESUMED, SVM_SUSPENDED, dirty-list cycle).
 * `done` resolves at EOF with the counts, or rejects with the first
 * out-of-cycle or malformed record as unexpected data.
 */
export class ColoBackChannelMonitor {
  readonly done: Promise<ColoBackChannelSummary>;
  private stopped = false;
  private readonly counts = { svmReady: 0, svmResumed: 0, svmSuspended: 0, dirtyPfnLists: 0, dirtyPfns: 0, bytes: 0 };

  constructor(private readonly input: InputChannel) {
    this.done = this.read();
    this.done.catch(() => undefined); // awaited in AWAIT_FAILOVER
  }

  /** Give up reading (the sender stopped waiting); the loop ends within one poll. */
  stop(): void {
    this.stopped = true;
  }

  private async read(): Promise<ColoBackChannelSummary> {
    const decoder = new BackChannelDecoder({ channel: 'colo' });
    let pending: Uint8Array = new Uint8Array(0);
    for (;;) {
      const chunk = await this.next();
      if (chunk === null) {
        this.decode(() => decoder.finish(pending));
        return { ...this.counts };
      }
      this.counts.bytes += chunk.length;
      pending = pending.length === 0 ? chunk : new Uint8Array(Buffer.concat([pending, chunk]));
      let at = 0;
      for (;;) {
        const step = this.decode(() => decoder.next(pending.subarray(at)));
        if ('need' in step) break;
        if ('skip' in step) at += step.skip;
        else if ('item' in step) {
          at += step.item.length;
          if (step.item.kind === 'record') this.count(step.item.record.body);
        } else break;
      }
      pending = pending.slice(at);
    }
  }

  private count(body: RecordBody): void {
    if (body.kind === 'checkpoint-state' && body.controlId in SVM) this.counts[SVM[body.controlId as 1 | 2 | 3]] += 1;
    if (body.kind === 'dirty-pfn-list') {
      this.counts.dirtyPfnLists += 1;
      this.counts.dirtyPfns += body.pfns.length;
    }
  }

  /** The next bytes, or null at EOF (or once stopped). */
  private async next(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.stopped) return null;
      try {
        return await this.input.readSome({ state: 'AWAIT_FAILOVER', timeoutMs: POLL_MS, expected: 'COLO back-channel records' });
      } catch (error) {
        if (error instanceof ProtocolError && error.kind === 'timeout') continue;
        throw error;
      }
    }
  }

  private decode<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      const info = describeStreamFailure(error);
      throw new ProtocolError(`COLO back channel contained unexpected data: ${info.message}`, {
        state: 'AWAIT_FAILOVER',
        kind: 'unexpected-data',
        expected: 'CHECKPOINT_STATE SVM_READY, SVM_RESUMED, SVM_SUSPENDED, then CHECKPOINT_DIRTY_PFN_LIST, in that cycle',
        actual: info.ruleId ?? describeBytes(new Uint8Array(0)),
        cause: error,
      });
    }
  }
}
