/**
 * The record table: one row per header or record, except that consecutive
 * PAGE_DATA-like records (same type, same checkpoint) collapse into one row
 * with counts. Bounded: the first `headRows` rows and the last `tailRows` are
 * kept (with their details); rows between are only counted.
 */
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import { recordFields } from '../inspect/record-fields.js';
import type { StreamItem } from '../reader/items.js';
import { rowDetail, type RowDetail } from './record-detail.js';
import type { SegmentLayer } from './timeline.js';

export interface RunStats {
  pfns: number;
  pages: number;
  pfnMin: number;
  pfnMax: number;
}

export interface RecordRow {
  kind: 'header' | 'record' | 'run' | 'trailing';
  offset: number;
  /** Bytes on the wire (all the run's records). */
  length: number;
  layer: SegmentLayer;
  name: string;
  type?: number;
  firstIndex?: number;
  lastIndex?: number;
  records: number;
  /** body_length of a single record. */
  bodyLength?: number;
  checkpoint?: number;
  /** Precopy pass of a PAGE_DATA row (libxc page data only). */
  pass?: number;
  /** One line: the decoded fields in words (for a run: counts and pfn range). */
  summary: string;
  run?: RunStats;
  /** Details of the row's first item. */
  detail: RowDetail;
}

export interface RecordTable {
  head: RecordRow[];
  omitted: { rows: number; records: number; bytes: number };
  tail: RecordRow[];
}

const HEADER_NAMES: Record<string, string> = {
  'xl-header': 'xl header',
  'libxl-header': 'libxl header',
  'libxc-image-header': 'libxc image header',
  'libxc-domain-header': 'libxc domain header',
};

function pfnStats(pfns: readonly number[], types: readonly number[]): RunStats {
  let pfnMin = Infinity;
  let pfnMax = -Infinity;
  let pages = 0;
  for (let i = 0; i < pfns.length; i++) {
    if (pfns[i] < pfnMin) pfnMin = pfns[i];
    if (pfns[i] > pfnMax) pfnMax = pfns[i];
    pages += PAGE_TYPE_HAS_DATA[types[i]];
  }
  return { pfns: pfns.length, pages, pfnMin, pfnMax };
}

export class RecordTableBuilder {
  private readonly head: RecordRow[] = [];
  private readonly tail: RecordRow[] = [];
  private readonly omitted = { rows: 0, records: 0, bytes: 0 };
  private open?: RecordRow | undefined;

  constructor(
    private readonly headRows: number,
    private readonly tailRows: number,
    private readonly hexBytes: number,
    private readonly jsonChars: number,
  ) {}

  /** `pass`: the pass a libxc PAGE_DATA record belongs to (a run never spans two passes). */
  onItem(item: StreamItem, pass?: number): void {
    if (item.kind === 'record') {
      const body = item.record.body;
      const collapsible = body.kind === 'page-data' || body.kind === 'pfn-list';
      const o = this.open;
      if (
        collapsible &&
        o &&
        o.layer === item.layer &&
        o.name === item.record.name &&
        o.checkpoint === item.checkpoint &&
        o.pass === pass &&
        o.offset + o.length === item.offset
      ) {
        const s = pfnStats(body.pfns, body.types);
        const run = o.run as RunStats;
        run.pfns += s.pfns;
        run.pages += s.pages;
        run.pfnMin = Math.min(run.pfnMin, s.pfnMin);
        run.pfnMax = Math.max(run.pfnMax, s.pfnMax);
        o.kind = 'run';
        o.records++;
        o.length += item.length;
        o.lastIndex = item.index;
        delete o.bodyLength;
        o.summary = runSummary(o);
        return;
      }
      const row: RecordRow = {
        kind: 'record',
        offset: item.offset,
        length: item.length,
        layer: item.layer,
        name: item.record.name,
        type: item.record.type,
        firstIndex: item.index,
        lastIndex: item.index,
        records: 1,
        bodyLength: item.bodyLength,
        ...(item.checkpoint !== undefined ? { checkpoint: item.checkpoint } : {}),
        ...(pass !== undefined ? { pass } : {}),
        summary: recordFields(item.record).summary,
        ...(collapsible ? { run: pfnStats(body.pfns, body.types) } : {}),
        detail: rowDetail(item, this.hexBytes, this.jsonChars),
      };
      this.push(row, collapsible);
      return;
    }
    const row: RecordRow =
      item.kind === 'trailing'
        ? {
            kind: 'trailing',
            offset: item.offset,
            length: item.length,
            layer: 'trailing',
            name: item.isGoMessage ? 'go message' : 'trailing bytes',
            records: 0,
            summary: item.isGoMessage ? "xl migrate's go message (the input is a capture of the wire)" : 'bytes after the final END',
            detail: rowDetail(item, this.hexBytes, this.jsonChars),
          }
        : {
            kind: 'header',
            offset: item.offset,
            length: item.length,
            layer: 'header',
            name: HEADER_NAMES[item.kind],
            records: 0,
            summary: '',
            detail: rowDetail(item, this.hexBytes, this.jsonChars),
          };
    this.push(row, false);
  }

  private push(row: RecordRow, collapsible: boolean): void {
    this.open = collapsible ? row : undefined;
    if (this.head.length < this.headRows) {
      this.head.push(row);
      return;
    }
    this.tail.push(row);
    if (this.tail.length > this.tailRows) {
      const gone = this.tail.shift() as RecordRow;
      this.omitted.rows++;
      this.omitted.records += gone.records;
      this.omitted.bytes += gone.length;
    }
  }

  build(): RecordTable {
    return { head: [...this.head], omitted: { ...this.omitted }, tail: [...this.tail] };
  }
}

function runSummary(row: RecordRow): string {
  const r = row.run as RunStats;
  const hex = (n: number) => `0x${n.toString(16)}`;
  return `${row.records.toLocaleString('en-US')} records (#${row.firstIndex}–#${row.lastIndex}), ${r.pfns.toLocaleString('en-US')} pfns ${hex(r.pfnMin)}–${hex(r.pfnMax)}, ${r.pages.toLocaleString('en-US')} pages of data`;
}
