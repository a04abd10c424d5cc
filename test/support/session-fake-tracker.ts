import type { StreamEnd, StreamTracker } from '../../src/session/stream-tracker.js';

/** Thrown like the project's StreamFormatError: ruleId + offset + message. */
export class FakeStreamError extends Error {
  constructor(
    readonly ruleId: string,
    readonly offset: number,
    message: string,
  ) {
    super(message);
    this.name = 'FakeStreamError';
  }
}

/**
 * A tracker that "validates" by comparing with the bytes it expects: any
 * difference is a bad stream, the stream ends after `expected.length` bytes
 * (plain), or — with `checkpointEnds` — EOF at or after the first checkpoint
 * end is a failover (Remus/COLO). Lets the state machines be tested without
 * the real reader.
 */
export class ExpectedBytesTracker implements StreamTracker {
  private received = 0;
  private extra: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly expected: Uint8Array,
    private readonly checkpointEnds?: readonly number[],
  ) {}

  get done(): boolean {
    return this.checkpointEnds === undefined && this.received >= this.expected.length;
  }

  push(chunk: Uint8Array): void {
    if (this.done) {
      this.extra = new Uint8Array(Buffer.concat([this.extra, chunk]));
      return;
    }
    const limit = this.checkpointEnds === undefined ? Math.min(chunk.length, this.expected.length - this.received) : chunk.length;
    for (let i = 0; i < limit; i += 1) {
      const offset = this.received + i;
      if (offset >= this.expected.length || chunk[i] !== this.expected[offset]) {
        throw new FakeStreamError('FAKE-BYTE', offset, `unexpected byte 0x${chunk[i].toString(16)} at offset ${offset}`);
      }
    }
    this.received += limit;
    if (limit < chunk.length) this.extra = chunk.slice(limit);
  }

  trailing(): Uint8Array {
    return this.extra;
  }

  end(): StreamEnd {
    if (this.checkpointEnds !== undefined) {
      const first = this.checkpointEnds[0] ?? Number.POSITIVE_INFINITY;
      if (this.received >= first) return { complete: false, failover: true };
      throw new FakeStreamError('FAKE-TRUNCATED', this.received, 'EOF before the first complete checkpoint');
    }
    if (this.done) return { complete: true, failover: false };
    throw new FakeStreamError('FAKE-TRUNCATED', this.received, `stream truncated at ${this.received} of ${this.expected.length} bytes`);
  }
}
