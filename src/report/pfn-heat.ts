/**
 * The pfn map: which pfns were sent and how often, in a bounded number of
 * buckets. Buckets are 2^k pfns wide, starting at pfn 0; when a pfn lands past
 * the last bucket the width doubles and neighbouring buckets merge, so memory
 * stays at `cells` counters whatever the guest's size.
 */
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import { PfnSet } from '../reader/pfn-set.js';

export interface PfnBucket {
  /** Distinct pfns of the bucket that appeared in a pfn array (any type). */
  distinct: number;
  /** pfn entries (every time a pfn of the bucket was sent, any type). */
  entries: number;
  /** Entries that carried a page of data. */
  dataEntries: number;
}

export interface PfnMap {
  /** pfns per bucket (a power of two). */
  bucketSize: number;
  /** Buckets from pfn 0 up to the highest pfn seen (at most the cell limit). */
  buckets: PfnBucket[];
  pfnMin?: number;
  pfnMax?: number;
}

export class PfnHeat {
  private bucketShift = 0;
  private distinct: Float64Array;
  private entries: Float64Array;
  private dataEntries: Float64Array;
  private readonly seen = new PfnSet();
  private min = Infinity;
  private max = -Infinity;

  constructor(private readonly cells: number) {
    this.distinct = new Float64Array(cells);
    this.entries = new Float64Array(cells);
    this.dataEntries = new Float64Array(cells);
  }

  add(pfns: readonly number[], types: readonly number[]): void {
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i];
      if (pfn < this.min) this.min = pfn;
      if (pfn > this.max) {
        this.max = pfn;
        while (Math.floor(pfn / 2 ** this.bucketShift) >= this.cells) this.widen();
      }
      const b = Math.floor(pfn / 2 ** this.bucketShift);
      this.entries[b]++;
      if (PAGE_TYPE_HAS_DATA[types[i]]) this.dataEntries[b]++;
      if (this.seen.add(pfn)) this.distinct[b]++;
    }
  }

  private widen(): void {
    this.bucketShift++;
    for (const arr of [this.distinct, this.entries, this.dataEntries]) {
      for (let i = 0; i < this.cells; i++) arr[i] = (arr[2 * i] ?? 0) + (arr[2 * i + 1] ?? 0);
    }
  }

  build(): PfnMap {
    if (this.max === -Infinity) return { bucketSize: 1, buckets: [] };
    const used = Math.floor(this.max / 2 ** this.bucketShift) + 1;
    const buckets: PfnBucket[] = [];
    for (let i = 0; i < used; i++) buckets.push({ distinct: this.distinct[i], entries: this.entries[i], dataEntries: this.dataEntries[i] });
    return { bucketSize: 2 ** this.bucketShift, buckets, pfnMin: this.min, pfnMax: this.max };
  }
}
