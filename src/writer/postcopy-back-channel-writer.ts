/**
 * [RFC] Postcopy back channel (destination → source, spec/FORMAT.md §6.2): no
 * headers, POSTCOPY_FAULT* then one POSTCOPY_COMPLETE.
 */
import { MAX_BATCH_SIZE } from '../format/constants.js';
import { BackChannelWriterBase } from './back-channel-base.js';
import type { StreamSink } from './sink.js';

export const POSTCOPY_BACK_CHANNEL_STATES = ['FAULTS', 'COMPLETE', 'CLOSED'] as const;
export type PostcopyBackChannelState = (typeof POSTCOPY_BACK_CHANNEL_STATES)[number];

export class PostcopyBackChannelWriter extends BackChannelWriterBase<PostcopyBackChannelState> {
  constructor(sink: StreamSink) {
    super(sink, 'FAULTS', 'postcopy-rfc');
  }

  allowed(): string[] {
    switch (this.current) {
      case 'FAULTS':
        return ['POSTCOPY_FAULT', 'POSTCOPY_COMPLETE', 'close'];
      case 'COMPLETE':
        return ['close'];
      case 'CLOSED':
        return [];
    }
  }

  protected closedState(): PostcopyBackChannelState {
    return 'CLOSED';
  }

  /** POSTCOPY_FAULT: pfns the destination's guest faulted on (≥ 1, no type bits). */
  async writeFault(pfns: readonly number[]): Promise<void> {
    this.require('POSTCOPY_FAULT');
    if (pfns.length === 0) this.guard('POSTCOPY_FAULT', 'count must be ≥ 1');
    if (pfns.length > MAX_BATCH_SIZE) this.guard('POSTCOPY_FAULT', `${pfns.length} pfns exceed the batch limit of ${MAX_BATCH_SIZE}`);
    for (const p of pfns) if (!Number.isInteger(p) || p < 0 || p >= 2 ** 52) this.guard('POSTCOPY_FAULT', `${p} is not a pfn`);
    await this.emitRecord(
      'libxc',
      'POSTCOPY_FAULT',
      { kind: 'pfn-list', count: pfns.length, reserved: 0, pfns: [...pfns], types: new Array<number>(pfns.length).fill(0) },
      'FAULTS',
    );
  }

  /** POSTCOPY_COMPLETE: the destination has every page. */
  async writeComplete(): Promise<void> {
    this.require('POSTCOPY_COMPLETE');
    await this.emitRecord('libxc', 'POSTCOPY_COMPLETE', { kind: 'empty' }, 'COMPLETE');
  }
}
