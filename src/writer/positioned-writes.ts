/**
 * Positioned writes to one file with several in flight: write() starts a
 * write and returns, waiting only when the limits on writes or bytes in flight
 * are reached, or when the new write overlaps one still in flight (that one
 * must land first: the last copy of a page wins). drain() waits for all of
 * them and reports the first failure.
 *
 * The writes go from the caller's buffers, not copies: the caller must leave
 * them unchanged until drain() resolves. Used by extract's memory image and by
 * FileSink.
 */

export interface InFlightLimits {
  /** Writes in flight at once. */
  writes: number;
  /** Bytes in flight at once (a single bigger write still goes, alone). */
  bytes: number;
}

/** libuv's thread pool has 4 threads by default; 16 MiB keeps what the writes hold small. */
export const DEFAULT_IN_FLIGHT: InFlightLimits = { writes: 4, bytes: 16 << 20 };

interface InFlight {
  readonly start: number;
  readonly end: number;
  /** Settles when the write is done; never rejects (a failure is kept in `failure`). */
  readonly done: Promise<void>;
}

export class PositionedWrites {
  private readonly inFlight = new Set<InFlight>();
  private bytesInFlight = 0;
  private failed = false;
  private failure: unknown;

  constructor(private readonly limits: InFlightLimits = DEFAULT_IN_FLIGHT) {}

  /**
   * Start `write`, which writes `length` bytes at `position`, once the limits
   * and any overlapping write in flight allow; resolves when it has started.
   * Rejects with an earlier write's failure.
   */
  async write(position: number, length: number, write: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    if (length === 0) return;
    const start = position;
    const end = position + length;
    for (const w of this.inFlight) if (w.start < end && start < w.end) await w.done;
    while (this.inFlight.size >= this.limits.writes || (this.inFlight.size > 0 && this.bytesInFlight + length > this.limits.bytes)) {
      await Promise.race([...this.inFlight].map((w) => w.done));
    }
    this.throwIfFailed();
    const done = write().then(
      () => undefined,
      (e: unknown) => {
        if (!this.failed) this.failure = e;
        this.failed = true;
      },
    );
    const w: InFlight = { start, end, done: done.finally(() => this.settled(w, length)) };
    this.inFlight.add(w);
    this.bytesInFlight += length;
  }

  /** Wait for every write issued so far; rejects with the first failure. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight].map((w) => w.done));
    this.throwIfFailed();
  }

  private settled(w: InFlight, length: number): void {
    this.inFlight.delete(w);
    this.bytesInFlight -= length;
  }

  private throwIfFailed(): void {
    if (this.failed) throw this.failure;
  }
}
