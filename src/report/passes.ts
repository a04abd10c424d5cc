/**
 * Pages per precopy pass, split into pages sent for the first time and pages
 * resent. Passes are cut exactly as the reader's summary cuts them (a record
 * whose first pfn is not above the previous record's last one starts a pass,
 * and so does a new checkpoint), so the bars match `summary().passes`.
 */
import type { PageDataBody } from '../codec/bodies/page-data.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import { PfnSet } from '../reader/pfn-set.js';

export interface PassStat {
  /** 1-based. */
  pass: number;
  checkpoint?: number;
  /** True when the pass's records are POSTCOPY_PAGE_DATA (postcopy RFC). */
  postcopy: boolean;
  records: number;
  /** pfn entries (all types). */
  pfns: number;
  /** Entries carrying page data. */
  pages: number;
  /** Of `pages`: pfns that an earlier record had already sent. */
  resentPages: number;
}

export class PassTracker {
  private readonly passes: PassStat[] = [];
  private count = 0;
  private lastPfn = -1;
  private passCheckpoint = -1;
  private readonly seen = new PfnSet();

  constructor(private readonly limit: number) {}

  /** Count a PAGE_DATA-like body; returns the (1-based) pass it belongs to. */
  onPages(body: PageDataBody, checkpoint: number | undefined, postcopy: boolean): number {
    const { pfns, types } = body;
    if (pfns.length === 0) return this.count;
    const cp = checkpoint ?? 0;
    if (this.count === 0 || pfns[0] <= this.lastPfn || cp !== this.passCheckpoint) {
      this.count++;
      this.passCheckpoint = cp;
      // Passes past the limit are counted (the total is shown) but not kept.
      if (this.count <= this.limit)
        this.passes.push({ pass: this.count, ...(checkpoint ? { checkpoint } : {}), postcopy, records: 0, pfns: 0, pages: 0, resentPages: 0 });
    }
    const kept = this.count <= this.limit ? this.passes[this.passes.length - 1] : undefined;
    let pages = 0;
    let resent = 0;
    for (let i = 0; i < pfns.length; i++) {
      const data = PAGE_TYPE_HAS_DATA[types[i]] === 1;
      const fresh = this.seen.add(pfns[i]);
      if (data) {
        pages++;
        if (!fresh) resent++;
      }
    }
    this.lastPfn = pfns[pfns.length - 1];
    if (kept) {
      kept.records++;
      kept.pfns += pfns.length;
      kept.pages += pages;
      kept.resentPages += resent;
    }
    return this.count;
  }

  /** The passes kept and how many more there were. */
  build(): { passes: PassStat[]; total: number } {
    return { passes: this.passes.map((p) => ({ ...p })), total: this.count };
  }
}
