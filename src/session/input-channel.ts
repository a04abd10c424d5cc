import type { Readable } from 'node:stream';
import { ringOf } from './bulk-read-socket.js';
import type { ByteRing } from './byte-ring.js';
import { ProtocolError, describeBytes } from './protocol-error.js';

/** Where a read happens and how long it may wait; used to attribute failures. */
export interface ReadContext {
  readonly state: string;
  readonly timeoutMs: number;
  /** Human description of what is awaited, for error messages. */
  readonly expected: string;
}

/** Pause the source above this many buffered bytes so a slow consumer bounds memory. */
const DEFAULT_HIGH_WATER = 4 * 1024 * 1024;

/**
 * Pull-style reads over a Node Readable (pipe, child stdout, socket): exact
 * reads for fixed messages, chunk reads for the stream, and unshift so bytes
 * read past the stream's end (the start of GO) are not lost. Every wait is
 * bounded by a timeout and fails with a ProtocolError naming the state.
 */
export class InputChannel {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly highWater: number;
  /** The recycled memory a bulk-reading socket delivers into (bulk-read-socket.ts), if the source is one. */
  private readonly ring: ByteRing | undefined;

  private readonly onData = (chunk: Buffer | string): void => {
    // A view of the transport's buffer, not a copy (new Uint8Array(buffer) would copy every byte).
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    if (bytes.length === 0) return;
    const last = this.chunks[this.chunks.length - 1];
    if (last !== undefined && last.buffer === bytes.buffer && last.byteOffset + last.length === bytes.byteOffset) {
      // The next bytes of the same ring (bulk-read-socket.ts): one larger chunk, fewer turns downstream.
      this.chunks[this.chunks.length - 1] = new Uint8Array(last.buffer, last.byteOffset, last.length + bytes.length);
    } else {
      this.chunks.push(bytes);
    }
    this.buffered += bytes.length;
    if (this.buffered > this.highWater) this.source.pause();
    this.notify();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (error: Error): void => {
    this.failure ??= error;
    this.notify();
  };

  constructor(
    private readonly source: Readable,
    options: { highWaterMark?: number } = {},
  ) {
    this.highWater = options.highWaterMark ?? DEFAULT_HIGH_WATER;
    this.ring = ringOf(source);
    source.on('data', this.onData);
    source.on('end', this.onEnd);
    // A destroyed socket or killed child may close without 'end': same as EOF for us.
    source.on('close', this.onEnd);
    source.on('error', this.onError);
    // A transport that closed before we listened (a receiver command that exited at once) never says so again.
    if (source.readableEnded || source.destroyed) this.ended = true;
  }

  /** Bytes already received and not yet consumed. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Read exactly `length` bytes. EOF before that is `peer-closed`, carrying what did arrive. */
  async readExact(length: number, context: ReadContext): Promise<Uint8Array> {
    await this.waitUntil(
      () => this.buffered >= length,
      context,
      () => this.peek(length),
    );
    return this.take(length);
  }

  /** Read whatever is available (at least one byte); `null` at a clean EOF. */
  async readSome(context: ReadContext, maxLength = Number.POSITIVE_INFINITY): Promise<Uint8Array | null> {
    if (!(await this.waitForSome(context))) return null;
    return this.take(Math.min(this.buffered, maxLength, this.chunks[0].length));
  }

  /**
   * Like readSome, but the bytes may be a view of recycled memory: the caller
   * must hand it back with `giveBack` once nothing refers to it any more (a
   * capture, after the bytes are written). Views are given back in the order
   * they were borrowed; a copying read (readSome, readExact) in between gives
   * back everything borrowed before it.
   */
  async borrowSome(context: ReadContext): Promise<Uint8Array | null> {
    if (!(await this.waitForSome(context))) return null;
    return this.take(this.chunks[0].length, true);
  }

  /** The memory of `view` (from borrowSome) and of everything borrowed before it may be reused. */
  giveBack(view: Uint8Array): void {
    this.ring?.release(view);
  }

  private async waitForSome(context: ReadContext): Promise<boolean> {
    try {
      await this.waitUntil(
        () => this.buffered > 0,
        context,
        () => new Uint8Array(0),
      );
    } catch (error) {
      if (error instanceof ProtocolError && error.kind === 'peer-closed' && this.failure === undefined) return false;
      throw error;
    }
    return true;
  }

  /** Wait for EOF, returning anything that arrived before it (at most `limit` bytes kept). */
  async readToEnd(context: ReadContext, limit = 1024 * 1024): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let kept = 0;
    for (;;) {
      const chunk = await this.readSome(context);
      if (chunk === null) break;
      if (kept < limit) {
        parts.push(chunk.subarray(0, limit - kept));
        kept += Math.min(chunk.length, limit - kept);
      }
    }
    return new Uint8Array(Buffer.concat(parts));
  }

  /** Put bytes back in front of the buffer (they were read past a boundary). */
  unshift(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.unshift(bytes);
    this.buffered += bytes.length;
  }

  /** Stop listening; the caller owns the underlying stream's lifetime. */
  detach(): void {
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('close', this.onEnd);
    // Keep a no-op error listener: a late transport error must not crash the process.
    this.source.off('error', this.onError);
    this.source.on('error', () => undefined);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async waitUntil(ready: () => boolean, context: ReadContext, partial: () => Uint8Array): Promise<void> {
    for (;;) {
      if (ready()) return;
      if (this.failure !== undefined) {
        throw new ProtocolError(`read error while waiting for ${context.expected}: ${this.failure.message}`, {
          state: context.state,
          kind: 'io',
          expected: context.expected,
          cause: this.failure,
        });
      }
      if (this.ended) {
        const got = partial();
        throw new ProtocolError(
          `peer closed the connection while waiting for ${context.expected}${got.length > 0 ? ` (got only ${describeBytes(got)})` : ''}`,
          { state: context.state, kind: 'peer-closed', expected: context.expected, actual: describeBytes(got) },
        );
      }
      await this.nextEvent(context);
    }
  }

  private nextEvent(context: ReadContext): Promise<void> {
    if (this.source.isPaused() && this.buffered <= this.highWater) this.source.resume();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        reject(
          new ProtocolError(`timed out after ${context.timeoutMs} ms waiting for ${context.expected}`, {
            state: context.state,
            kind: 'timeout',
            expected: context.expected,
          }),
        );
      }, context.timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private peek(length: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let need = Math.min(length, this.buffered);
    for (const chunk of this.chunks) {
      if (need === 0) break;
      const part = chunk.subarray(0, need);
      parts.push(part);
      need -= part.length;
    }
    return new Uint8Array(Buffer.concat(parts));
  }

  /**
   * The next `length` bytes. Borrowed: a view of the first chunk (length must
   * not exceed it). Otherwise a view when the source's memory is not recycled,
   * a copy when it is (and the ring gets the bytes back at once).
   */
  private take(length: number, borrow = false): Uint8Array {
    const head = this.chunks[0];
    let out: Uint8Array;
    let last: Uint8Array;
    if (head !== undefined && length <= head.length) {
      // The common case (every readSome): a view of the chunk the transport handed us, no copy.
      if (length === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(length);
      out = head.subarray(0, length);
      last = out;
      if (this.ring !== undefined && !borrow) out = new Uint8Array(out);
    } else {
      out = new Uint8Array(length);
      last = out;
      let filled = 0;
      while (filled < length) {
        const next = this.chunks[0];
        const part = Math.min(next.length, length - filled);
        last = next.subarray(0, part);
        out.set(last, filled);
        filled += part;
        if (part === next.length) this.chunks.shift();
        else this.chunks[0] = next.subarray(part);
      }
    }
    this.buffered -= length;
    if (!borrow) this.ring?.release(last);
    if (this.source.isPaused() && this.buffered <= this.highWater) this.source.resume();
    return out;
  }
}
