/**
 * A set of pfns whose memory follows the pfns present, not their span: pfns
 * are grouped in 65536-pfn blocks, and each block is stored the cheapest way
 * for what it holds (as roaring bitmaps do):
 *  - one member: a plain number (its offset in the block), no allocation;
 *  - up to SPARSE_MAX members: a sorted Uint16Array (element 0 is the count);
 *  - more: an 8 KiB bitmap (one bit per pfn, so a dense 64 GiB guest costs 2 MiB).
 * pfns are 52-bit: scattered huge pfns cost one map entry each, not a bitmap
 * up to the largest; pfns spread one per 512 cost ~5 bytes each.
 */
const BLOCK_PFNS = 65536; // 2^16
const BITMAP_BYTES = BLOCK_PFNS / 8;
/** A sorted array of this many u16 is as big as the bitmap. */
const SPARSE_MAX = BITMAP_BYTES / 2 - 1;

/**
 * A record's run of at least this many pfns in one block makes that block a
 * bitmap at once (at most 16 bytes a member), instead of growing a sorted array
 * pfn by pfn first: dense guests then pay one bitmap test per pfn from the start.
 */
const DENSE_RUN = 512;
/** Below 2^31 a pfn is a small integer: its block and offset come from bit operations, no float division. */
const SMALL = 0x80000000;

/** Blocks of small pfns only. */
const SMALL_BLOCKS = SMALL / BLOCK_PFNS;

function blockOf(pfn: number): number {
  return pfn < SMALL ? pfn >>> 16 : Math.floor(pfn / BLOCK_PFNS);
}

function offsetIn(pfn: number, key: number): number {
  return pfn < SMALL ? pfn & 0xffff : pfn - key * BLOCK_PFNS;
}

/** Offset, sorted offsets with their count first, or a bitmap. */
type Block = number | Uint16Array | Uint8Array;

/** Index of `v` in sorted arr[1..n], or -(insertion point) - 1. */
function search(arr: Uint16Array, v: number): number {
  let lo = 1;
  let hi = arr[0];
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = arr[mid];
    if (m === v) return mid;
    if (m < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

export class PfnSet {
  private readonly blocks = new Map<number, Block>();
  private _size = 0;
  // The bitmap touched last: dense pfns mostly arrive in runs.
  private lastKey = -1;
  private lastBitmap: Uint8Array | undefined;

  get size(): number {
    return this._size;
  }

  has(pfn: number): boolean {
    const key = blockOf(pfn);
    const at = offsetIn(pfn, key);
    if (key === this.lastKey) return ((this.lastBitmap as Uint8Array)[at >>> 3] & (1 << (at & 7))) !== 0;
    const b = this.blocks.get(key);
    if (b === undefined) return false;
    if (typeof b === 'number') return b === at;
    if (b instanceof Uint16Array) return search(b, at) >= 0;
    return (b[at >>> 3] & (1 << (at & 7))) !== 0;
  }

  /** Adds pfn; returns false if it was already there. */
  add(pfn: number): boolean {
    const key = blockOf(pfn);
    const at = offsetIn(pfn, key);
    if (key === this.lastKey) return this.setBit(this.lastBitmap as Uint8Array, at);
    const b = this.blocks.get(key);
    if (b === undefined) {
      this.blocks.set(key, at);
    } else if (typeof b === 'number') {
      if (b === at) return false;
      const arr = new Uint16Array(4);
      arr[0] = 2;
      arr[1] = Math.min(b, at);
      arr[2] = Math.max(b, at);
      this.blocks.set(key, arr);
    } else if (b instanceof Uint16Array) {
      // pfns mostly arrive in increasing order: a new last member needs no search.
      const n = b[0];
      const i = n > 0 && b[n] < at ? -(n + 1) - 1 : search(b, at);
      if (i >= 0) return false;
      this.insert(key, b, -i - 1, at);
    } else {
      this.lastKey = key;
      this.lastBitmap = b;
      return this.setBit(b, at);
    }
    this._size++;
    return true;
  }

  /**
   * Adds every pfn of a record's array; returns those already there (in order,
   * repeats included), or undefined if there were none. Each run of pfns in one
   * block is added in one loop, straight into its bitmap when it has one or the
   * run is dense: a cold process spends less time in unoptimised code than with
   * a call per pfn.
   */
  addAll(pfns: readonly number[]): number[] | undefined {
    let again: number[] | undefined;
    const n = pfns.length;
    let i = 0;
    while (i < n) {
      const key = blockOf(pfns[i]);
      // The run's end. Small pfns inline: calls cost in code not yet optimised.
      let end = i + 1;
      if (key < SMALL_BLOCKS) while (end < n && pfns[end] >>> 16 === key && pfns[end] < SMALL) end++;
      else while (end < n && blockOf(pfns[end]) === key) end++;
      let b = this.blocks.get(key);
      if (!(b instanceof Uint8Array) && end - i >= DENSE_RUN) b = this.toBitmap(key, b);
      if (!(b instanceof Uint8Array)) {
        for (; i < end; i++) {
          if (this.add(pfns[i])) continue;
          again ??= [];
          again.push(pfns[i]);
        }
        continue;
      }
      this.lastKey = key;
      this.lastBitmap = b;
      let added = 0;
      for (; i < end; i++) {
        const pfn = pfns[i];
        const at = pfn < SMALL ? pfn & 0xffff : pfn - key * BLOCK_PFNS;
        const mask = 1 << (at & 7);
        const byte = b[at >>> 3];
        if (byte & mask) {
          again ??= [];
          again.push(pfn);
        } else {
          b[at >>> 3] = byte | mask;
          added++;
        }
      }
      this._size += added;
    }
    return again;
  }

  private setBit(bitmap: Uint8Array, at: number): boolean {
    const mask = 1 << (at & 7);
    if (bitmap[at >>> 3] & mask) return false;
    bitmap[at >>> 3] |= mask;
    this._size++;
    return true;
  }

  /** Put `at` at index `pos` of the sorted array, growing it or turning it into a bitmap. */
  private insert(key: number, arr: Uint16Array, pos: number, at: number): void {
    const n = arr[0];
    if (n === SPARSE_MAX) {
      const bitmap = this.toBitmap(key, arr);
      bitmap[at >>> 3] |= 1 << (at & 7);
      return;
    }
    let out = arr;
    if (n + 1 === arr.length) {
      out = new Uint16Array(Math.min(2 * arr.length, SPARSE_MAX + 1));
      out.set(arr.subarray(0, pos));
      out.set(arr.subarray(pos, n + 1), pos + 1);
      this.blocks.set(key, out);
    } else if (pos <= n) {
      out.copyWithin(pos + 1, pos, n + 1);
    }
    out[pos] = at;
    out[0] = n + 1;
  }

  /** The block's members as a bitmap, which replaces it (the set's size is unchanged). */
  private toBitmap(key: number, block: Block | undefined): Uint8Array {
    const bitmap = new Uint8Array(BITMAP_BYTES);
    if (typeof block === 'number') bitmap[block >>> 3] |= 1 << (block & 7);
    else if (block instanceof Uint16Array) for (let i = 1; i <= block[0]; i++) bitmap[block[i] >>> 3] |= 1 << (block[i] & 7);
    this.blocks.set(key, bitmap);
    return bitmap;
  }

  delete(pfn: number): void {
    const key = blockOf(pfn);
    const at = offsetIn(pfn, key);
    const b = this.blocks.get(key);
    if (b === undefined) return;
    if (typeof b === 'number') {
      if (b !== at) return;
      this.blocks.delete(key);
    } else if (b instanceof Uint16Array) {
      const i = search(b, at);
      if (i < 0) return;
      b.copyWithin(i, i + 1, b[0] + 1);
      b[0]--;
    } else {
      const mask = 1 << (at & 7);
      if (!(b[at >>> 3] & mask)) return;
      b[at >>> 3] &= ~mask;
    }
    this._size--;
  }

  /** Every member in increasing order. */
  *values(): IterableIterator<number> {
    const keys = [...this.blocks.keys()].sort((a, b) => a - b);
    for (const key of keys) {
      const b = this.blocks.get(key) as Block;
      const base = key * BLOCK_PFNS;
      if (typeof b === 'number') yield base + b;
      else if (b instanceof Uint16Array) for (let i = 1; i <= b[0]; i++) yield base + b[i];
      else {
        for (let byte = 0; byte < BITMAP_BYTES; byte++) {
          const v = b[byte];
          if (v === 0) continue;
          for (let bit = 0; bit < 8; bit++) if (v & (1 << bit)) yield base + byte * 8 + bit;
        }
      }
    }
  }
}
