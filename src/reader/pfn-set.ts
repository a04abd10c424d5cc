/**
 * A set of pfns as a sparse bitmap: 512-pfn (64-byte) blocks created on first
 * use. A dense guest costs one bit per pfn (a 64 GiB guest: 2 MiB); pfns are
 * 52-bit, so a stream naming scattered huge pfns costs at most one block per
 * distinct pfn instead of a bitmap up to the largest one.
 */
const BLOCK_PFNS = 512;
const BLOCK_BYTES = BLOCK_PFNS / 8;

export class PfnSet {
  private readonly blocks = new Map<number, Uint8Array>();
  private _size = 0;
  // The block touched last: pfns mostly arrive in runs.
  private lastKey = -1;
  private lastBlock: Uint8Array | undefined;

  get size(): number {
    return this._size;
  }

  private block(pfn: number, create: boolean): Uint8Array | undefined {
    const key = Math.floor(pfn / BLOCK_PFNS);
    if (key === this.lastKey) return this.lastBlock;
    let b = this.blocks.get(key);
    if (!b) {
      if (!create) return undefined;
      b = new Uint8Array(BLOCK_BYTES);
      this.blocks.set(key, b);
    }
    this.lastKey = key;
    this.lastBlock = b;
    return b;
  }

  has(pfn: number): boolean {
    const b = this.block(pfn, false);
    const bit = pfn % BLOCK_PFNS;
    return b !== undefined && (b[bit >>> 3] & (1 << (bit & 7))) !== 0;
  }

  /** Adds pfn; returns false if it was already there. */
  add(pfn: number): boolean {
    const b = this.block(pfn, true) as Uint8Array;
    const bit = pfn % BLOCK_PFNS;
    const mask = 1 << (bit & 7);
    if (b[bit >>> 3] & mask) return false;
    b[bit >>> 3] |= mask;
    this._size++;
    return true;
  }

  delete(pfn: number): void {
    const b = this.block(pfn, false);
    if (!b) return;
    const bit = pfn % BLOCK_PFNS;
    const mask = 1 << (bit & 7);
    if (b[bit >>> 3] & mask) {
      b[bit >>> 3] &= ~mask;
      this._size--;
    }
  }

  /** Every member in increasing order. */
  *values(): IterableIterator<number> {
    const keys = [...this.blocks.keys()].sort((a, b) => a - b);
    for (const key of keys) {
      const b = this.blocks.get(key) as Uint8Array;
      for (let byte = 0; byte < BLOCK_BYTES; byte++) {
        const v = b[byte];
        if (v === 0) continue;
        for (let bit = 0; bit < 8; bit++) if (v & (1 << bit)) yield key * BLOCK_PFNS + byte * 8 + bit;
      }
    }
  }
}
