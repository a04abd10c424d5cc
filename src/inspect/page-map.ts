/**
 * Per pfn: the type and a CRC-32 of the last copy a stream sent — enough to
 * tell which pages of two streams differ with 5 bytes per pfn, not the pages.
 * Sparse: blocks of 4096 pfns are created on first use, so a stream naming a
 * huge (legal, 52-bit) pfn costs one block, not a table up to it.
 */
import { crc32 } from 'node:zlib';
import { PAGE_SIZE } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import type { PageDataBody } from '../codec/bodies/page-data.js';

const BLOCK = 4096;

interface Block {
  /** type nibble + 1; 0 = never sent. */
  kinds: Uint8Array;
  hashes: Uint32Array;
}

export class PageMap {
  private readonly blocks = new Map<number, Block>();
  private top = -1;

  get maxPfn(): number {
    return this.top;
  }

  /** Keys of the blocks in use (block k holds pfns k×4096 … k×4096+4095). */
  blockKeys(): number[] {
    return [...this.blocks.keys()];
  }

  static readonly BLOCK = BLOCK;

  apply(body: PageDataBody): void {
    let k = 0;
    for (let i = 0; i < body.pfns.length; i++) {
      const pfn = body.pfns[i];
      const type = body.types[i];
      const block = this.block(pfn, true) as Block;
      const at = pfn % BLOCK;
      block.kinds[at] = type + 1;
      if (PAGE_TYPE_HAS_DATA[type]) {
        block.hashes[at] = crc32(body.pageData.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE));
        k++;
      } else {
        block.hashes[at] = 0;
      }
      if (pfn > this.top) this.top = pfn;
    }
  }

  /** undefined: never sent. */
  typeOf(pfn: number): number | undefined {
    const k = this.block(pfn, false)?.kinds[pfn % BLOCK] ?? 0;
    return k === 0 ? undefined : k - 1;
  }

  hashOf(pfn: number): number {
    return this.block(pfn, false)?.hashes[pfn % BLOCK] ?? 0;
  }

  private block(pfn: number, create: boolean): Block | undefined {
    const key = Math.floor(pfn / BLOCK);
    let b = this.blocks.get(key);
    if (!b && create) {
      b = { kinds: new Uint8Array(BLOCK), hashes: new Uint32Array(BLOCK) };
      this.blocks.set(key, b);
    }
    return b;
  }
}
