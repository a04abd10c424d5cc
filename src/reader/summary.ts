/** What a walk over a stream learned: counts, bytes, pages per pass, resent pfns. */
import { DOMAIN_TYPE_NAMES } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA, PAGE_TYPES } from '../format/page-types.js';
import type { PageDataBody } from '../codec/bodies/page-data.js';
import type { Container, RecordItem, StreamEnd, StreamMode } from './items.js';
import { PfnSet } from './pfn-set.js';

export interface TypeCount {
  layer: string;
  name: string;
  type: number;
  records: number;
  /** Bytes on the wire (header + body + padding). */
  bytes: number;
}

export interface PassSummary {
  /** 1-based. */
  pass: number;
  /** Checkpoint the pass belongs to (checkpointed streams). */
  checkpoint?: number;
  records: number;
  /** pfn entries (all types). */
  pfns: number;
  /** Entries carrying page data. */
  pages: number;
}

export interface StreamSummary {
  container?: Container | undefined;
  /** The image around the stream: libvirt's libxl save image, a XenServer suspend image. */
  wrapper?: 'libvirt' | 'xenserver' | undefined;
  dialect: string;
  mode?: StreamMode | undefined;
  domainType?: string | undefined;
  imageVersion?: number | undefined;
  xenVersion?: string | undefined;
  guestWidth?: number | undefined;
  records: number;
  bytes: number;
  byType: TypeCount[];
  /** PAGE_DATA passes: a new pass starts when a record's first pfn is not above the previous record's last one, and at each checkpoint. */
  passes: PassSummary[];
  pageEntries: number;
  pagesWithData: number;
  distinctPfns: number;
  /** pfns sent more than once. */
  resentPfns: number;
  pfnMin?: number | undefined;
  pfnMax?: number | undefined;
  /** pfn entries per page type name. */
  pageTypes: Record<string, number>;
  checkpoints: number;
  postcopyPages?: number | undefined;
  end?: StreamEnd | undefined;
}

export class SummaryBuilder {
  container?: Container;
  wrapper?: 'libvirt' | 'xenserver';
  mode?: StreamMode;
  domainType?: number;
  imageVersion?: number;
  xenVersion?: string;
  guestWidth?: number;
  checkpoints = 0;
  private records = 0;
  private bytes = 0;
  private readonly byType = new Map<string, TypeCount>();
  private readonly passes: PassSummary[] = [];
  private lastPfn = -1;
  private passCheckpoint = -1;
  private pageEntries = 0;
  private pagesWithData = 0;
  private readonly seen = new PfnSet();
  private readonly seenTwice = new PfnSet();
  private pfnMin = Infinity;
  private pfnMax = -Infinity;
  private readonly pageTypeCounts = new Array<number>(16).fill(0);
  private postcopyPages = 0;

  constructor(private readonly dialect: string) {}

  addBytes(n: number): void {
    this.bytes += n;
  }

  onRecord(item: RecordItem): void {
    this.records++;
    const key = `${item.layer}:${item.record.name}`;
    let t = this.byType.get(key);
    if (!t) {
      t = { layer: item.layer, name: item.record.name, type: item.record.type, records: 0, bytes: 0 };
      this.byType.set(key, t);
    }
    t.records++;
    t.bytes += item.length;
    const body = item.record.body;
    if (body.kind === 'page-data' && item.layer === 'libxc') {
      if (item.record.name === 'POSTCOPY_PAGE_DATA') this.postcopyPages += body.pfns.length;
      this.onPages(body, item.checkpoint);
    }
  }

  private onPages(body: PageDataBody, checkpoint: number | undefined): void {
    const { pfns, types } = body;
    const cp = checkpoint ?? 0;
    if (this.passes.length === 0 || pfns[0] <= this.lastPfn || cp !== this.passCheckpoint) {
      this.passes.push({ pass: this.passes.length + 1, ...(checkpoint ? { checkpoint } : {}), records: 0, pfns: 0, pages: 0 });
      this.passCheckpoint = cp;
    }
    const pass = this.passes[this.passes.length - 1];
    pass.records++;
    pass.pfns += pfns.length;
    // Counts first, then the set in one call: two tight loops warm up sooner than one that calls out per pfn.
    const typeCounts = this.pageTypeCounts;
    let withData = 0;
    let min = this.pfnMin;
    let max = this.pfnMax;
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i];
      const t = types[i];
      typeCounts[t]++;
      withData += PAGE_TYPE_HAS_DATA[t];
      if (pfn < min) min = pfn;
      if (pfn > max) max = pfn;
    }
    this.pfnMin = min;
    this.pfnMax = max;
    const again = this.seen.addAll(pfns);
    if (again) for (const pfn of again) this.seenTwice.add(pfn);
    this.lastPfn = pfns[pfns.length - 1];
    pass.pages += withData;
    this.pageEntries += pfns.length;
    this.pagesWithData += withData;
  }

  build(end?: StreamEnd): StreamSummary {
    const pageTypes: Record<string, number> = {};
    this.pageTypeCounts.forEach((n, t) => {
      if (n > 0) pageTypes[PAGE_TYPES[t].name] = n;
    });
    const s: StreamSummary = {
      container: this.container,
      ...(this.wrapper ? { wrapper: this.wrapper } : {}),
      dialect: this.dialect,
      mode: this.mode,
      domainType: this.domainType === undefined ? undefined : (DOMAIN_TYPE_NAMES[this.domainType] ?? `0x${this.domainType.toString(16)}`),
      imageVersion: this.imageVersion,
      xenVersion: this.xenVersion,
      guestWidth: this.guestWidth,
      records: this.records,
      bytes: this.bytes,
      byType: [...this.byType.values()],
      passes: this.passes.map((p) => ({ ...p })),
      pageEntries: this.pageEntries,
      pagesWithData: this.pagesWithData,
      distinctPfns: this.seen.size,
      resentPfns: this.seenTwice.size,
      pageTypes,
      checkpoints: this.checkpoints,
      end,
    };
    if (this.pfnMin !== Infinity) {
      s.pfnMin = this.pfnMin;
      s.pfnMax = this.pfnMax;
    }
    if (this.postcopyPages) s.postcopyPages = this.postcopyPages;
    return s;
  }
}
