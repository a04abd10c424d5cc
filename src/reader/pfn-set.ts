/** A growable bitmap of pfns: one bit per guest pfn, so a 64 GiB guest costs 2 MiB. */
export class PfnSet {
  private bits = new Uint8Array(1024);
  private _size = 0;

  get size(): number {
    return this._size;
  }

  has(pfn: number): boolean {
    const byte = Math.floor(pfn / 8);
    return byte < this.bits.length && (this.bits[byte] & (1 << (pfn & 7))) !== 0;
  }

  /** Adds pfn; returns false if it was already there. */
  add(pfn: number): boolean {
    const byte = Math.floor(pfn / 8);
    if (byte >= this.bits.length) this.grow(byte);
    const mask = 1 << (pfn & 7);
    if (this.bits[byte] & mask) return false;
    this.bits[byte] |= mask;
    this._size++;
    return true;
  }

  delete(pfn: number): void {
    const byte = Math.floor(pfn / 8);
    const mask = 1 << (pfn & 7);
    if (byte < this.bits.length && this.bits[byte] & mask) {
      this.bits[byte] &= ~mask;
      this._size--;
    }
  }

  /** Every member in increasing order. */
  *values(): IterableIterator<number> {
    for (let byte = 0; byte < this.bits.length; byte++) {
      const b = this.bits[byte];
      if (b === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) yield byte * 8 + bit;
    }
  }

  private grow(byte: number): void {
    // pfns are at most 52 bits; a corrupt-but-valid pfn must not allocate the world.
    if (byte > 1 << 30) throw new RangeError(`pfn ${byte * 8} too large to track`);
    let n = this.bits.length;
    while (n <= byte) n *= 2;
    const next = new Uint8Array(n);
    next.set(this.bits);
    this.bits = next;
  }
}
