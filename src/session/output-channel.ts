import type { Writable } from 'node:stream';
import { ProtocolError } from './protocol-error.js';

/** Where a write happens and how long it may block; used to attribute failures. */
export interface WriteContext {
  readonly state: string;
  readonly timeoutMs: number;
  /** What is being written, for error messages. */
  readonly what: string;
}

/**
 * Writes over a Node Writable (pipe, child stdin, socket) with bounded waits.
 * A peer that has gone away surfaces as a ProtocolError in the state that
 * wrote, never as an unhandled 'error' event or EPIPE crash.
 */
export class OutputChannel {
  private failure: Error | undefined;
  private closed = false;
  private readonly onError = (error: Error): void => {
    this.failure ??= error;
  };
  private readonly onClose = (): void => {
    this.closed = true;
  };

  constructor(private readonly sink: Writable) {
    sink.on('error', this.onError);
    sink.on('close', this.onClose);
  }

  /**
   * Write and wait until the bytes were handed to the transport (the write
   * callback). Used for the control messages, whose delivery decides the state.
   */
  async writeFlushed(bytes: Uint8Array, context: WriteContext): Promise<void> {
    this.assertWritable(context);
    await this.bounded(context, (settle) => {
      this.sink.write(bytes, (error) => settle(error ?? undefined));
    });
  }

  /** Write stream data, waiting only when the transport applies backpressure. */
  async write(bytes: Uint8Array, context: WriteContext): Promise<void> {
    this.assertWritable(context);
    if (this.sink.write(bytes)) return;
    await this.bounded(context, (settle) => {
      const onDrain = (): void => {
        this.sink.off('close', onGone);
        settle(undefined);
      };
      const onGone = (): void => {
        this.sink.off('drain', onDrain);
        settle(this.failure ?? new Error('transport closed'));
      };
      this.sink.once('drain', onDrain);
      this.sink.once('close', onGone);
    });
  }

  /** Signal EOF to the peer (half-close). Safe to call more than once. */
  end(): void {
    if (!this.sink.writableEnded && !this.sink.destroyed) this.sink.end();
  }

  /** Close hard, e.g. after a failure, so the peer sees EOF at once. */
  destroy(): void {
    if (!this.sink.destroyed) this.sink.destroy();
  }

  /** Resolve once everything written was flushed (or the transport is gone), bounded by `timeoutMs`. */
  async finish(timeoutMs: number): Promise<void> {
    if (this.sink.writableFinished || this.sink.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.sink.once('finish', done);
      this.sink.once('close', done);
      this.sink.once('error', done);
    });
  }

  private assertWritable(context: WriteContext): void {
    if (this.failure !== undefined || this.closed || this.sink.destroyed || this.sink.writableEnded) {
      const reason = this.failure?.message ?? 'transport already closed';
      throw new ProtocolError(`cannot write ${context.what}: ${reason}`, {
        state: context.state,
        kind: this.failure === undefined ? 'peer-closed' : 'io',
        expected: `to send ${context.what}`,
        cause: this.failure,
      });
    }
  }

  private bounded(context: WriteContext, start: (settle: (error: Error | undefined) => void) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(
          new ProtocolError(`timed out after ${context.timeoutMs} ms writing ${context.what}`, {
            state: context.state,
            kind: 'timeout',
            expected: `to send ${context.what}`,
          }),
        );
      }, context.timeoutMs);
      start((error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) resolve();
        else
          reject(
            new ProtocolError(`write of ${context.what} failed: ${error.message}`, {
              state: context.state,
              kind: 'io',
              expected: `to send ${context.what}`,
              cause: error,
            }),
          );
      });
    });
  }
}
