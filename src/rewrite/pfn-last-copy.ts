/**
 * For every pfn a stream sent: the type and the input offset of its last copy
 * (the 4096 bytes of page data, when the type carries any). This is all
 * `rewrite --flatten` keeps of the guest's memory between its two passes.
 *
 * Memory: pfns live in chunks of 4096 allocated on first use (sparse pfn
 * spaces cost nothing where nothing was sent), 9 bytes per pfn of a touched
 * chunk: a Float64 offset and a Uint8 type. Checkpointed streams also keep an
 * undo log of the updates the open checkpoint made (17 bytes per update, at
 * most one checkpoint's entries), so an incomplete last checkpoint can be
 * rolled back to the state of the last complete one.
 */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
/** Type byte of a pfn never sent (valid types are nibbles). */
const ABSENT = 0xff;

interface Chunk {
  offset: Float64Array;
  type: Uint8Array;
}

/** Growable log of (pfn, previous type, previous offset). */
class UpdateLog {
  private pfn = new Float64Array(1024);
  private offset = new Float64Array(1024);
  private type = new Uint8Array(1024);
  length = 0;

  push(pfn: number, type: number, offset: number): void {
    if (this.length === this.pfn.length) {
      const n = this.length * 2;
      const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(n);
        b.set(a);
        return b;
      };
      this.pfn = grow(this.pfn, (k) => new Float64Array(k));
      this.offset = grow(this.offset, (k) => new Float64Array(k));
      this.type = grow(this.type, (k) => new Uint8Array(k));
    }
    this.pfn[this.length] = pfn;
    this.offset[this.length] = offset;
    this.type[this.length] = type;
    this.length++;
  }

  /** Newest first. */
  forEachReverse(visit: (pfn: number, type: number, offset: number) => void): void {
    for (let i = this.length - 1; i >= 0; i--) visit(this.pfn[i], this.type[i], this.offset[i]);
  }

  clear(): void {
    this.length = 0;
    if (this.pfn.length > 1 << 16) {
      this.pfn = new Float64Array(1024);
      this.offset = new Float64Array(1024);
      this.type = new Uint8Array(1024);
    }
  }
}

export class PfnLastCopyIndex {
  private readonly chunks = new Map<number, Chunk>();
  private distinct = 0;
  private readonly log = new UpdateLog();

  /** Distinct pfns recorded. */
  get size(): number {
    return this.distinct;
  }

  /** Updates the open checkpoint made (kept for rollback). */
  get pendingUpdates(): number {
    return this.log.length;
  }

  /** Bytes held by the index (chunks only; for tests of the memory bound). */
  get bytesHeld(): number {
    return this.chunks.size * CHUNK * 9;
  }

  /**
   * pfn's latest copy: `type` (nibble) and `offset` (input offset of its page
   * data; ignored for types without data). `undoable`: log the previous value
   * so rollback() can restore it.
   */
  set(pfn: number, type: number, offset: number, undoable = false): void {
    const key = Math.floor(pfn / CHUNK);
    let c = this.chunks.get(key);
    if (!c) {
      c = { offset: new Float64Array(CHUNK), type: new Uint8Array(CHUNK).fill(ABSENT) };
      this.chunks.set(key, c);
    }
    const i = pfn % CHUNK;
    const before = c.type[i];
    if (undoable) this.log.push(pfn, before, c.offset[i]);
    if (before === ABSENT) this.distinct++;
    c.type[i] = type;
    c.offset[i] = offset;
  }

  /** The open checkpoint completed: its updates stay. */
  commit(): void {
    this.log.clear();
  }

  /** The open checkpoint never completed: put back what it changed. Returns the number of updates undone. */
  rollback(): number {
    const n = this.log.length;
    this.log.forEachReverse((pfn, type, offset) => {
      const c = this.chunks.get(Math.floor(pfn / CHUNK)) as Chunk;
      const i = pfn % CHUNK;
      if (type === ABSENT && c.type[i] !== ABSENT) this.distinct--;
      c.type[i] = type;
      c.offset[i] = offset;
    });
    this.log.clear();
    return n;
  }

  /** The last copy of `pfn`, or undefined if it was never sent. */
  get(pfn: number): { type: number; offset: number } | undefined {
    const c = this.chunks.get(Math.floor(pfn / CHUNK));
    if (!c) return undefined;
    const i = pfn % CHUNK;
    return c.type[i] === ABSENT ? undefined : { type: c.type[i], offset: c.offset[i] };
  }

  /** Every recorded pfn in ascending order. `visit` may be async (awaited before the next one). */
  async forEachAscending(visit: (pfn: number, type: number, offset: number) => void | Promise<void>): Promise<void> {
    const keys = [...this.chunks.keys()].sort((a, b) => a - b);
    for (const key of keys) {
      const c = this.chunks.get(key) as Chunk;
      const base = key * CHUNK;
      for (let i = 0; i < CHUNK; i++) {
        if (c.type[i] === ABSENT) continue;
        const r = visit(base + i, c.type[i], c.offset[i]);
        if (r) await r;
      }
    }
  }
}

export const PFN_INDEX_CHUNK = CHUNK;
