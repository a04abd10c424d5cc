/**
 * VERIFY (`xl migrate --debug`): after the VERIFY record the sender re-sends
 * every page, and Xen's restore, in verify mode, compares each with what it
 * already holds ("verify pfn … failed"). This check does the same on the
 * stream: before VERIFY it keeps the offset of the last copy of each pfn (in
 * blocks allocated as pfns appear; never the pages), after it compares each
 * re-sent page with that copy. A pfn never sent before VERIFY is compared with
 * a zero page, as a freshly populated frame is.
 *
 * Where the input can be read again by position (a regular file, bytes in
 * memory) the copy is read back when a re-sent page needs it: most streams
 * carry no VERIFY, and nothing is spent on their pages. Elsewhere (pipes,
 * sockets, decompressed input) each page is fingerprinted as it passes (a
 * 64-bit hash kept beside its offset), since it cannot be read again.
 */
import { PAGE_SIZE } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import { bytesEqual } from '../codec/bytes.js';
import type { PageDataBody } from '../codec/bodies/page-data.js';
import type { PassedBytes } from './sources.js';

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
  /** Two 32-bit lanes per pfn (fingerprinting only). */
  readonly hashes: Int32Array | undefined;
  /** Offset of the last copy; 0 = none (no page can start at offset 0). */
  readonly offsets: Float64Array;
}

export class VerifyResendCheck {
  private readonly blocks = new Map<number, Block>();
  private verifying = false;
  /** Where earlier copies are read back from; undefined: fingerprint every page. */
  private passed: PassedBytes | undefined;
  /** Scratch for a page whose view is not 4-byte aligned. */
  private aligned: Int32Array | undefined;
  private readonly zeroHash = hashWords(new Int32Array(WORDS_PER_PAGE));
  private readonly zeroPage = new Uint8Array(PAGE_SIZE);

  /** The input can be read again by position: compare re-sent pages with their earlier copies' bytes. Call before the first page. */
  readBackFrom(passed: PassedBytes): void {
    this.passed = passed;
  }

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
      const pfn = body.pfns[i];
      if (this.verifying) {
        const mismatch = this.compare(pfn, body.pageData.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE), pageOffset);
        if (mismatch !== undefined) mismatches.push(mismatch);
      } else {
        this.remember(pfn, pageOffset, this.passed === undefined ? this.hash(body.pageData, k * PAGE_SIZE) : undefined);
      }
      k++;
      pageOffset += PAGE_SIZE;
    }
    return mismatches;
  }

  private remember(pfn: number, offset: number, hash: readonly [number, number] | undefined): void {
    const key = Math.floor(pfn / BLOCK_PFNS);
    let block = this.blocks.get(key);
    if (block === undefined) {
      block = { hashes: hash === undefined ? undefined : new Int32Array(2 * BLOCK_PFNS), offsets: new Float64Array(BLOCK_PFNS) };
      this.blocks.set(key, block);
    }
    const slot = pfn % BLOCK_PFNS;
    block.offsets[slot] = offset;
    if (hash === undefined || block.hashes === undefined) return;
    block.hashes[2 * slot] = hash[0];
    block.hashes[2 * slot + 1] = hash[1];
  }

  /** The re-sent `page` of `pfn` at `offset` against its last copy before VERIFY (a zero page when none). */
  private compare(pfn: number, page: Uint8Array, offset: number): ResendMismatch | undefined {
    const block = this.blocks.get(Math.floor(pfn / BLOCK_PFNS));
    const slot = pfn % BLOCK_PFNS;
    const firstOffset = block === undefined || block.offsets[slot] === 0 ? undefined : block.offsets[slot];
    let same: boolean;
    if (this.passed !== undefined) {
      same = bytesEqual(page, firstOffset === undefined ? this.zeroPage : this.passed(firstOffset, PAGE_SIZE));
    } else {
      const hash = this.hash(page, 0);
      const hashes = block?.hashes;
      const expected = firstOffset === undefined || hashes === undefined ? this.zeroHash : [hashes[2 * slot], hashes[2 * slot + 1]];
      same = expected[0] === hash[0] && expected[1] === hash[1];
    }
    return same ? undefined : { pfn, offset, firstOffset };
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
