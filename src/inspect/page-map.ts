/**
 * Per pfn: the type and a CRC-32 of the last copy a stream sent — enough to
 * tell which pages of two streams differ with 5 bytes per pfn, not the pages.
 */
import { crc32 } from 'node:zlib';
import { PAGE_SIZE } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import type { PageDataBody } from '../codec/bodies/page-data.js';

export class PageMap {
  /** type nibble + 1; 0 = never sent. */
  private kinds = new Uint8Array(4096);
  private hashes = new Uint32Array(4096);
  private top = -1;

  get maxPfn(): number {
    return this.top;
  }

  apply(body: PageDataBody): void {
    let k = 0;
    for (let i = 0; i < body.pfns.length; i++) {
      const pfn = body.pfns[i];
      const type = body.types[i];
      this.ensure(pfn);
      this.kinds[pfn] = type + 1;
      if (PAGE_TYPE_HAS_DATA[type]) {
        this.hashes[pfn] = crc32(body.pageData.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE));
        k++;
      } else {
        this.hashes[pfn] = 0;
      }
    }
    for (const p of body.pfns) if (p > this.top) this.top = p;
  }

  /** undefined: never sent. */
  typeOf(pfn: number): number | undefined {
    const k = pfn < this.kinds.length ? this.kinds[pfn] : 0;
    return k === 0 ? undefined : k - 1;
  }

  hashOf(pfn: number): number {
    return pfn < this.hashes.length ? this.hashes[pfn] : 0;
  }

  private ensure(pfn: number): void {
    if (pfn < this.kinds.length) return;
    if (pfn > 2 ** 31) throw new RangeError(`pfn ${pfn} too large to track`);
    let n = this.kinds.length;
    while (n <= pfn) n *= 2;
    const kinds = new Uint8Array(n);
    kinds.set(this.kinds);
    const hashes = new Uint32Array(n);
    hashes.set(this.hashes);
    this.kinds = kinds;
    this.hashes = hashes;
  }
}
