/**
 * VERIFY (`xl migrate --debug`): after the VERIFY record the sender re-sends
 * every page, and Xen's restore, in verify mode, compares each with what it
 * already holds ("verify pfn … failed"). This check does the same on the
 * stream: before VERIFY it keeps a 64-bit hash and the offset of the last copy
 * of each pfn (16 bytes per pfn, in blocks allocated as pfns appear; never the
 * pages), after it compares each re-sent page with that copy. A pfn never sent
 * before VERIFY is compared with a zero page, as a freshly populated frame is.
 */
import { PAGE_SIZE } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import type { PageDataBody } from '../codec/bodies/page-data.js';

export interface ResendMismatch {
  readonly pfn: number;
  /** Offset of the re-sent page. */
  readonly offset: number;
  /** Offset of the copy it verifies; undefined when the pfn was not sent before VERIFY (compared with zeros). */
  readonly firstOffset: number | undefined;
}

/** pfns per storage block: 64 KiB of hashes and offsets per 16 MiB of guest memory. */
const BLOCK_SHIFT = 12;
const BLOCK_PFNS = 1 << BLOCK_SHIFT;
const WORDS_PER_PAGE = PAGE_SIZE / 4;

interface Block {
  /** Two 32-bit lanes per pfn. */
  readonly hashes: Int32Array;
  /** Offset of the last copy; 0 = none (no page can start at offset 0). */
  readonly offsets: Float64Array;
}

export class VerifyResendCheck {
  private readonly blocks = new Map<number, Block>();
  private verifying = false;
  /** Scratch for a page whose view is not 4-byte aligned. */
  private aligned: Int32Array | undefined;
  private readonly zeroHash = hashWords(new Int32Array(WORDS_PER_PAGE));

  /** The VERIFY record went by: every page from here on is a re-send to compare. */
  begin(): void {
    this.verifying = true;
  }

  get active(): boolean {
    return this.verifying;
  }

  /** A PAGE_DATA body whose pfn array starts at `bodyOffset + 8`; returns the re-sent pages that differ. */
  pages(body: PageDataBody, bodyOffset: number): ResendMismatch[] {
    if (body.pagesSkipped === true) return [];
    const mismatches: ResendMismatch[] = [];
    let pageOffset = bodyOffset + 8 + 8 * body.count;
    let k = 0;
    for (let i = 0; i < body.pfns.length; i++) {
      if (PAGE_TYPE_HAS_DATA[body.types[i] & 0xf] === 0) continue;
      const hash = this.hash(body.pageData, k * PAGE_SIZE);
      const pfn = body.pfns[i];
      if (this.verifying) {
        const mismatch = this.compare(pfn, hash, pageOffset);
        if (mismatch !== undefined) mismatches.push(mismatch);
      } else this.remember(pfn, hash, pageOffset);
      k++;
      pageOffset += PAGE_SIZE;
    }
    return mismatches;
  }

  private remember(pfn: number, hash: readonly [number, number], offset: number): void {
    const key = Math.floor(pfn / BLOCK_PFNS);
    let block = this.blocks.get(key);
    if (block === undefined) {
      block = { hashes: new Int32Array(2 * BLOCK_PFNS), offsets: new Float64Array(BLOCK_PFNS) };
      this.blocks.set(key, block);
    }
    const slot = pfn % BLOCK_PFNS;
    block.hashes[2 * slot] = hash[0];
    block.hashes[2 * slot + 1] = hash[1];
    block.offsets[slot] = offset;
  }

  private compare(pfn: number, hash: readonly [number, number], offset: number): ResendMismatch | undefined {
    const block = this.blocks.get(Math.floor(pfn / BLOCK_PFNS));
    const slot = pfn % BLOCK_PFNS;
    const firstOffset = block === undefined || block.offsets[slot] === 0 ? undefined : block.offsets[slot];
    const expected = firstOffset === undefined || block === undefined ? this.zeroHash : [block.hashes[2 * slot], block.hashes[2 * slot + 1]];
    if (expected[0] === hash[0] && expected[1] === hash[1]) return undefined;
    return { pfn, offset, firstOffset };
  }

  private hash(data: Uint8Array, start: number): [number, number] {
    const at = data.byteOffset + start;
    if (at % 4 === 0) return hashWords(new Int32Array(data.buffer, at, WORDS_PER_PAGE));
    this.aligned ??= new Int32Array(WORDS_PER_PAGE);
    new Uint8Array(this.aligned.buffer).set(data.subarray(start, start + PAGE_SIZE));
    return hashWords(this.aligned);
  }
}

/**
 * A 64-bit fingerprint, not a cryptographic one: four independent 32-bit
 * multiplicative lanes (each word goes to one, so the CPU runs them side by
 * side), folded into two. Each lane step is a bijection, so a page differing
 * in a single word always hashes differently.
 */
function hashWords(words: Int32Array): [number, number] {
  let a = 0x811c9dc5 | 0;
  let b = 0x9747b28c | 0;
  let c = 0x5bd1e995 | 0;
  let d = 0x27d4eb2f | 0;
  for (let i = 0; i < words.length; i += 4) {
    a = Math.imul(a ^ words[i], 0x01000193);
    b = Math.imul(b ^ words[i + 1], 0x01000193);
    c = Math.imul(c ^ words[i + 2], 0x01000193);
    d = Math.imul(d ^ words[i + 3], 0x01000193);
  }
  return [a ^ Math.imul(b, 0x85ebca77), c ^ Math.imul(d, 0xc2b2ae3d)];
}
