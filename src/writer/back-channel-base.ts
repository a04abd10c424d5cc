/**
 * What the back-channel writers share: no stream header, one record in flight
 * at a time, a small order automaton, and the same refuse-before-writing rule
 * as StreamWriter.
 */
import { encodeRecordChunks, makeRecord, type RecordBody } from '../codec/records.js';
import type { Dialect, Layer } from '../format/record-types.js';
import { WriterGuardError, WriterStateError } from './writer-errors.js';
import type { StreamSink } from './sink.js';

export abstract class BackChannelWriterBase<S extends string> {
  private inFlight = false;
  private closed = false;
  protected current: S;
  private readonly counts = new Map<string, number>();

  protected constructor(
    protected readonly sink: StreamSink,
    initial: S,
    private readonly dialect: Dialect,
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  get bytesWritten(): number {
    return this.sink.bytesWritten;
  }

  recordCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** The writes legal now. */
  abstract allowed(): string[];

  /** Finish the channel (close the sink). */
  async close(): Promise<void> {
    this.require('close');
    this.inFlight = true;
    try {
      await this.sink.close();
      this.closed = true;
    } finally {
      this.inFlight = false;
    }
    this.current = this.closedState();
  }

  async abort(reason?: Error): Promise<void> {
    if (this.closed) return;
    this.current = this.closedState();
    await this.sink.abort(reason);
  }

  protected abstract closedState(): S;

  protected require(what: string, detail?: string): void {
    const allowed = this.allowed();
    if (this.inFlight) throw new WriterStateError(this.current, what, allowed, 'the previous write has not finished; await it first');
    if (!allowed.includes(what) || detail) throw new WriterStateError(this.current, what, allowed, detail);
  }

  protected guard(record: string, problem: string): never {
    throw new WriterGuardError(this.current, record, problem);
  }

  /** Encode (guards have run), move to `next`, then write. */
  protected async emitRecord(layer: Layer, name: string, body: RecordBody, next: S): Promise<void> {
    const chunks = encodeRecordChunks(makeRecord(layer, name, body, this.dialect), this.dialect);
    this.current = next;
    const key = `${layer}:${name}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.inFlight = true;
    try {
      await this.sink.write(chunks);
    } catch (error) {
      this.current = this.closedState();
      await this.sink.abort(error instanceof Error ? error : undefined).catch(() => undefined);
      throw error;
    } finally {
      this.inFlight = false;
    }
  }
}
