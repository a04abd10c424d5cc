/**
 * Per pfn: the type and a CRC-32 of the last copy a stream sent — enough to
 * tell which pages of two streams differ with 5 bytes per pfn, not the pages.
 * Memory follows the pfns sent, not their span: pfns are grouped in 65536-pfn
 * blocks, each stored the cheapest way for what it holds:
 *  - one pfn: a single number packing offset, type and hash (no allocation);
 *  - up to SPARSE_MAX pfns: a Uint32Array of (offset|kind, hash) pairs sorted
 *    by offset, element 0 the count;
 *  - more: dense per-pfn tables (5 bytes per pfn of the block).
 */
import { crc32 } from 'node:zlib';
import { PAGE_SIZE } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import type { PageDataBody } from '../codec/bodies/page-data.js';

const BLOCK = 65536;
/** Past this many pfns a block's pairs (8 bytes each) approach the dense tables' 320 KiB. */
const SPARSE_MAX = 8192;
const TWO_32 = 0x1_0000_0000;

interface DenseBlock {
  /** type nibble + 1; 0 = never sent. */
  kinds: Uint8Array;
  hashes: Uint32Array;
}

/** A single pfn: (kind × 2^16 + offset) × 2^32 + hash (< 2^53, exact in a double). */
type Block = number | Uint32Array | DenseBlock;

const packOne = (at: number, kind: number, hash: number) => (kind * BLOCK + at) * TWO_32 + hash;

/** Index (1-based pair number) of offset `at` among the pairs, or -(insertion pair) - 1. */
function search(pairs: Uint32Array, at: number): number {
  let lo = 1;
  let hi = pairs[0];
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = pairs[2 * mid - 1] >>> 5;
    if (m === at) return mid;
    if (m < at) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

export class PageMap {
  private readonly blocks = new Map<number, Block>();

  apply(body: PageDataBody): void {
    let k = 0;
    for (let i = 0; i < body.pfns.length; i++) {
      const type = body.types[i];
      let hash = 0;
      if (PAGE_TYPE_HAS_DATA[type]) {
        hash = crc32(body.pageData.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE));
        k++;
      }
      this.set(body.pfns[i], type + 1, hash);
    }
  }

  /** undefined: never sent. */
  typeOf(pfn: number): number | undefined {
    const k = this.lookup(pfn, 'kind');
    return k === 0 ? undefined : k - 1;
  }

  hashOf(pfn: number): number {
    return this.lookup(pfn, 'hash');
  }

  /** Every pfn sent, in increasing order. */
  *pfns(): Generator<number> {
    const keys = [...this.blocks.keys()].sort((a, b) => a - b);
    for (const key of keys) {
      const b = this.blocks.get(key) as Block;
      const base = key * BLOCK;
      if (typeof b === 'number') yield base + (Math.floor(b / TWO_32) % BLOCK);
      else if (b instanceof Uint32Array) for (let i = 1; i <= b[0]; i++) yield base + (b[2 * i - 1] >>> 5);
      else for (let at = 0; at < BLOCK; at++) if (b.kinds[at] !== 0) yield base + at;
    }
  }

  private lookup(pfn: number, what: 'kind' | 'hash'): number {
    const key = Math.floor(pfn / BLOCK);
    const at = pfn - key * BLOCK;
    const b = this.blocks.get(key);
    if (b === undefined) return 0;
    if (typeof b === 'number') {
      const high = Math.floor(b / TWO_32);
      if (high % BLOCK !== at) return 0;
      return what === 'kind' ? Math.floor(high / BLOCK) : b % TWO_32;
    }
    if (b instanceof Uint32Array) {
      const i = search(b, at);
      if (i < 0) return 0;
      return what === 'kind' ? b[2 * i - 1] & 31 : b[2 * i];
    }
    return what === 'kind' ? b.kinds[at] : b.hashes[at];
  }

  private set(pfn: number, kind: number, hash: number): void {
    const key = Math.floor(pfn / BLOCK);
    const at = pfn - key * BLOCK;
    const b = this.blocks.get(key);
    if (b === undefined || (typeof b === 'number' && Math.floor(b / TWO_32) % BLOCK === at)) {
      this.blocks.set(key, packOne(at, kind, hash));
    } else if (typeof b === 'number') {
      const high = Math.floor(b / TWO_32);
      const pairs = new Uint32Array(1 + 2 * 4);
      pairs[0] = 1;
      pairs[1] = ((high % BLOCK) << 5) | Math.floor(high / BLOCK);
      pairs[2] = b % TWO_32;
      this.blocks.set(key, pairs);
      this.setPair(key, pairs, at, kind, hash);
    } else if (b instanceof Uint32Array) {
      this.setPair(key, b, at, kind, hash);
    } else {
      b.kinds[at] = kind;
      b.hashes[at] = hash;
    }
  }

  private setPair(key: number, pairs: Uint32Array, at: number, kind: number, hash: number): void {
    const n0 = pairs[0];
    // pfns mostly arrive in increasing order: a new last pfn needs no search.
    const i = n0 > 0 && pairs[2 * n0 - 1] >>> 5 < at ? -(n0 + 1) - 1 : search(pairs, at);
    if (i >= 0) {
      pairs[2 * i - 1] = (at << 5) | kind;
      pairs[2 * i] = hash;
      return;
    }
    const pos = -i - 1;
    const n = pairs[0];
    if (n === SPARSE_MAX) {
      const dense: DenseBlock = { kinds: new Uint8Array(BLOCK), hashes: new Uint32Array(BLOCK) };
      for (let j = 1; j <= n; j++) {
        const o = pairs[2 * j - 1] >>> 5;
        dense.kinds[o] = pairs[2 * j - 1] & 31;
        dense.hashes[o] = pairs[2 * j];
      }
      dense.kinds[at] = kind;
      dense.hashes[at] = hash;
      this.blocks.set(key, dense);
      return;
    }
    let out = pairs;
    if (2 * n + 1 === pairs.length) {
      out = new Uint32Array(1 + 2 * Math.min(2 * n, SPARSE_MAX));
      out.set(pairs.subarray(0, 2 * pos - 1));
      out.set(pairs.subarray(2 * pos - 1, 2 * n + 1), 2 * pos + 1);
      this.blocks.set(key, out);
    } else if (pos <= n) {
      out.copyWithin(2 * pos + 1, 2 * pos - 1, 2 * n + 1);
    }
    out[2 * pos - 1] = (at << 5) | kind;
    out[2 * pos] = hash;
    out[0] = n + 1;
  }
}
