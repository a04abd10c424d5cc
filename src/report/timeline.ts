/**
 * The stream's timeline: headers and records in order, with their byte
 * extents. Consecutive records of one type make one segment; past the limit,
 * neighbouring segments are merged pairwise (the merged one is drawn in the
 * colour of whichever had more bytes and marked mixed), so memory stays bounded.
 * Markers: checkpoints, postcopy phases, the error.
 */
import type { StreamItem } from '../reader/items.js';

export type SegmentLayer = 'header' | 'libxl' | 'libxc' | 'trailing';

export interface TimelineSegment {
  offset: number;
  length: number;
  layer: SegmentLayer;
  /** Record type name, or the header's name. */
  name: string;
  records: number;
  /** Index of its first record (records only). */
  firstIndex?: number;
  /** Made of several types after merging (drawn in the colour of the biggest). */
  mixed?: boolean | undefined;
  /** Precopy pass of a PAGE_DATA segment (a segment never spans two passes, unless merged). */
  pass?: number;
  /** Bytes of the type the segment is drawn as (for merging). */
  mainBytes: number;
}

export type MarkerKind = 'checkpoint' | 'postcopy' | 'error';

export interface TimelineMarker {
  offset: number;
  kind: MarkerKind;
  label: string;
}

export interface Timeline {
  segments: TimelineSegment[];
  markers: TimelineMarker[];
  markersOmitted: number;
  /** Bytes covered (end of the last item, or the error offset if further). */
  totalBytes: number;
}

const HEADER_NAMES: Record<string, string> = {
  'xl-header': 'xl header',
  'libxl-header': 'libxl header',
  'libxc-image-header': 'libxc image header',
  'libxc-domain-header': 'libxc domain header',
};

const POSTCOPY_MARKS: Record<string, string> = {
  POSTCOPY_BEGIN: 'postcopy begin',
  POSTCOPY_TRANSITION: 'postcopy transition',
};

export class TimelineBuilder {
  private segments: TimelineSegment[] = [];
  private readonly markers: TimelineMarker[] = [];
  private markersOmitted = 0;
  private end = 0;

  constructor(
    private readonly maxSegments: number,
    private readonly maxMarkers: number,
  ) {}

  /** `pass`: the pass a libxc PAGE_DATA record belongs to. */
  onItem(item: StreamItem, pass?: number): void {
    this.end = Math.max(this.end, item.offset + item.length);
    let layer: SegmentLayer;
    let name: string;
    if (item.kind === 'record') {
      layer = item.layer;
      name = item.record.name;
      if (item.layer === 'libxc' && name === 'CHECKPOINT')
        this.mark({ offset: item.offset, kind: 'checkpoint', label: `checkpoint ${item.checkpoint ?? ''}`.trim() });
      const pc = item.layer === 'libxc' ? POSTCOPY_MARKS[name] : undefined;
      if (pc) this.mark({ offset: item.offset, kind: 'postcopy', label: pc });
    } else if (item.kind === 'trailing') {
      layer = 'trailing';
      name = item.isGoMessage ? 'go message' : 'trailing bytes';
    } else if (item.kind === 'container-part') {
      layer = 'header';
      name = item.part;
    } else {
      layer = 'header';
      name = HEADER_NAMES[item.kind];
    }
    const last = this.segments[this.segments.length - 1];
    if (
      last &&
      !last.mixed &&
      last.layer === layer &&
      last.name === name &&
      last.pass === pass &&
      layer !== 'header' &&
      last.offset + last.length === item.offset
    ) {
      last.length += item.length;
      last.mainBytes += item.length;
      last.records++;
      return;
    }
    this.segments.push({
      offset: item.offset,
      length: item.length,
      layer,
      name,
      records: item.kind === 'record' ? 1 : 0,
      ...(item.kind === 'record' ? { firstIndex: item.index } : {}),
      ...(pass !== undefined ? { pass } : {}),
      mainBytes: item.length,
    });
    if (this.segments.length > this.maxSegments) this.compact();
  }

  /** The stream failed at `offset`. */
  onError(offset: number, ruleId: string): void {
    this.end = Math.max(this.end, offset);
    this.markers.push({ offset, kind: 'error', label: `${ruleId} at ${offset}` }); // always kept
  }

  private mark(m: TimelineMarker): void {
    if (this.markers.length < this.maxMarkers) this.markers.push(m);
    else this.markersOmitted++;
  }

  private compact(): void {
    const merged: TimelineSegment[] = [];
    for (let i = 0; i < this.segments.length; i += 2) {
      const a = this.segments[i];
      const b = this.segments[i + 1];
      if (!b) {
        merged.push(a);
        continue;
      }
      const main = b.mainBytes > a.mainBytes ? b : a;
      merged.push({
        offset: a.offset,
        length: b.offset + b.length - a.offset,
        layer: main.layer,
        name: main.name,
        records: a.records + b.records,
        ...(a.firstIndex !== undefined || b.firstIndex !== undefined ? { firstIndex: a.firstIndex ?? b.firstIndex } : {}),
        mixed: a.mixed || b.mixed || a.name !== b.name || a.layer !== b.layer || a.pass !== b.pass || undefined,
        ...(main.pass !== undefined && a.pass === b.pass ? { pass: main.pass } : {}),
        mainBytes: main.mainBytes,
      });
    }
    this.segments = merged;
  }

  build(): Timeline {
    return { segments: this.segments.map((s) => ({ ...s })), markers: [...this.markers], markersOmitted: this.markersOmitted, totalBytes: this.end };
  }
}
