import { ColoBackChannelWriter } from '../writer/colo-back-channel-writer.js';
import type { StreamSink } from '../writer/sink.js';
import type { OutputChannel } from './output-channel.js';
import type { TrackedRecord } from './stream-tracker.js';

/** Which pfns the secondary dirtied while it ran checkpoint `checkpoint` (1-based); a stand-in that runs no guest dirties none. */
export type DirtyPfnSource = (checkpoint: number) => ReadonlyArray<number | bigint>;

export interface ColoBackChannelCounts {
  /** CHECKPOINT_STATE records written: SVM_READY + SVM_RESUMED + SVM_SUSPENDED. */
  readonly checkpointStates: number;
  readonly dirtyPfnLists: number;
  readonly bytes: number;
  /** Set when a write failed; the back channel stopped there (the primary is gone: its EOF decides the rest). */
  readonly error?: string | undefined;
}

/**
 * The COLO secondary's half of each checkpoint (spec/STATE-MACHINES.md §2.7,
 * §5.3; libxl_colo_restore.c): once a checkpoint is complete on the forward
 * stream (libxl CHECKPOINT_END) the secondary resumes its copy and writes
 * CHECKPOINT_STATE SVM_READY then SVM_RESUMED; when the primary announces the
 * next one (CHECKPOINT_STATE NEW) it suspends and writes SVM_SUSPENDED and
 * the libxc CHECKPOINT_DIRTY_PFN_LIST. The records go through the project's
 * ColoBackChannelWriter (which enforces that cycle) onto the receiver's
 * output, one at a time, in the order the forward records were validated.
 */
export class ColoSecondary {
  private readonly writer: ColoBackChannelWriter;
  private readonly sink: OutputChannelSink;
  private queue: Promise<void> = Promise.resolve();
  private checkpoints = 0;
  private counts = { checkpointStates: 0, dirtyPfnLists: 0 };
  private failure: string | undefined;

  constructor(
    output: OutputChannel,
    private readonly dirtyPfns: DirtyPfnSource = () => [],
    timeoutMs: number,
  ) {
    this.sink = new OutputChannelSink(output, timeoutMs);
    this.writer = new ColoBackChannelWriter(this.sink);
  }

  /** Feed every validated forward record (StreamTracker.watch). */
  readonly onRecord = (record: TrackedRecord): void => {
    if (record.layer !== 'libxl') return;
    if (record.name === 'CHECKPOINT_END') {
      this.checkpoints += 1;
      this.enqueue(async () => {
        await this.writer.writeSvmReady();
        await this.writer.writeSvmResumed();
        this.counts.checkpointStates += 2;
      });
    } else if (record.name === 'CHECKPOINT_STATE' && record.controlId === 0) {
      const checkpoint = this.checkpoints;
      this.enqueue(async () => {
        await this.writer.writeSvmSuspended();
        this.counts.checkpointStates += 1;
        await this.writer.writeDirtyPfnList(this.dirtyPfns(checkpoint));
        this.counts.dirtyPfnLists += 1;
      });
    }
  };

  /** Wait for the writes queued so far; never throws (a failure is in the counts). */
  async settle(): Promise<ColoBackChannelCounts> {
    await this.queue;
    return { ...this.counts, bytes: this.sink.bytesWritten, error: this.failure };
  }

  private enqueue(step: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await step();
      } catch (error) {
        this.failure = (error as Error).message;
      }
    });
  }
}

/** The receiver's output as a writer sink: each record flushed as one write; closing is the receiver's business. */
class OutputChannelSink implements StreamSink {
  private written = 0;

  constructor(
    private readonly output: OutputChannel,
    private readonly timeoutMs: number,
  ) {}

  get bytesWritten(): number {
    return this.written;
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    const record = new Uint8Array(Buffer.concat(chunks));
    await this.output.writeFlushed(record, { state: 'RECEIVING', timeoutMs: this.timeoutMs, what: 'a COLO back-channel record' });
    this.written += record.length;
  }

  async close(): Promise<void> {}

  async abort(): Promise<void> {}
}
