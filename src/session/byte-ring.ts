/**
 * One fixed buffer that received bytes are read into, in order, and that
 * is reused once its oldest bytes have been released. On this kind of VM a
 * first touch of fresh memory costs more than the copy (issue #15: a fresh
 * 64 KiB buffer per socket read, or a fresh slab, page-faulted its way
 * through every GiB); the ring is touched once and then recycled.
 *
 * Releases are cumulative and in stream order: releasing a view frees it and
 * every byte put before it. Views of bytes put later stay valid.
 */
export class ByteRing {
  private readonly memory: Buffer;
  /** Absolute stream positions: bytes put so far, and bytes released so far. */
  private head = 0;
  private released = 0;

  constructor(readonly size: number) {
    this.memory = Buffer.allocUnsafeSlow(size);
  }

  /** Bytes that can be put without overwriting a view still in use. */
  get free(): number {
    return this.size - (this.head - this.released);
  }

  /**
   * The free space at the write position, for a reader to fill in place
   * (then `commit`): at least `minimum` bytes, wrapping to the start when the
   * end has less; undefined when the ring has no such room.
   */
  space(minimum: number): Uint8Array | undefined {
    const at = this.head % this.size;
    const free = this.free;
    const toEnd = Math.min(this.size - at, free);
    if (toEnd >= minimum) return this.memory.subarray(at, at + toEnd);
    // Skip the end's sliver: count it as put (freed by the next release past it), so positions stay consecutive.
    const atStart = free - (this.size - at);
    if (atStart < minimum) return undefined;
    this.head += this.size - at;
    return this.memory.subarray(0, atStart);
  }

  /** `length` bytes were written at the start of the last `space()`: they are put. Returns their view. */
  commit(space: Uint8Array, length: number): Uint8Array {
    this.head += length;
    return space.subarray(0, length);
  }

  /** True when `view` lies in this ring's memory. */
  owns(view: Uint8Array): boolean {
    return view.buffer === this.memory.buffer;
  }

  /** Free `view` and everything put before it; a view of other memory is ignored. */
  release(view: Uint8Array): void {
    if (!this.owns(view)) return;
    const end = view.byteOffset - this.memory.byteOffset + view.length;
    // The absolute position ≤ head that lies at ring offset `end` (bytes in use span less than the ring).
    const distance = (((this.head - end) % this.size) + this.size) % this.size;
    const position = this.head - distance;
    if (position > this.released) this.released = position;
  }
}
