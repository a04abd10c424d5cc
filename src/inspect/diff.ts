/**
 * `diff`: two streams compared item by item (headers and records in wire
 * order, by their bytes) and page by page (the memory each implies, last copy
 * of each pfn wins). Both are walked in lockstep, so memory stays bounded:
 * a few bytes per pfn for the page maps. An invalid stream is a difference,
 * reported with its error, not a failure of the diff.
 */
import { StreamFormatError } from '../codec/errors.js';
import { encodeItemChunks } from '../codec/json.js';
import { PAGE_TYPES } from '../format/page-types.js';
import { readStream } from '../reader/stream-reader.js';
import type { StreamSource } from '../reader/sources.js';
import type { StreamItem } from '../reader/items.js';
import { encodableItem } from './dump-json.js';
import { PageMap } from './page-map.js';
import { grouped, hex, offsetHex } from './text-format.js';
import type { WalkOptions } from './walk-options.js';

export interface DiffOptions extends WalkOptions {
  /** Differences listed at most, per kind (records, pages). Default 20. */
  maxListed?: number;
}

export interface ItemRef {
  offset: number;
  length: number;
  /** e.g. "record #37 libxc PAGE_DATA" or "libxl header". */
  what: string;
}

export interface ItemDifference {
  /** Position in the item sequence (0-based, headers included). */
  position: number;
  a?: ItemRef;
  b?: ItemRef;
  /** Offsets of the first differing byte, when both exist. */
  offsetA?: number;
  offsetB?: number;
}

export interface PageDifference {
  pfn: number;
  what: 'only in A' | 'only in B' | 'type differs' | 'content differs';
  typeA?: string;
  typeB?: string;
}

export interface DiffResult {
  same: boolean;
  itemsA: number;
  itemsB: number;
  /** First differing item: offsets of its first differing byte (or where one stream ended). */
  first?: ItemDifference | undefined;
  itemDifferences: ItemDifference[];
  itemDifferenceCount: number;
  /** Record types whose counts differ: records added (b > a) or removed. */
  typeCounts: Array<{ layer: string; name: string; a: number; b: number }>;
  pageDifferences: PageDifference[];
  pageDifferenceCount: number;
  pagesOnlyInA: number;
  pagesOnlyInB: number;
  pagesDiffering: number;
  errorA?: StreamFormatError;
  errorB?: StreamFormatError;
}

function describe(item: StreamItem): ItemRef {
  const what =
    item.kind === 'record'
      ? `record #${item.index} ${item.layer} ${item.record.name}`
      : item.kind === 'trailing'
        ? 'trailing bytes'
        : item.kind.replace(/-/g, ' ');
  return { offset: item.offset, length: item.length, what };
}

/** First index where two chunk lists differ as byte strings, or -1 when equal. */
function firstDifferentByte(a: readonly Uint8Array[], b: readonly Uint8Array[]): number {
  let ia = 0,
    ib = 0,
    oa = 0,
    ob = 0,
    pos = 0;
  for (;;) {
    while (ia < a.length && oa === a[ia].length) {
      ia++;
      oa = 0;
    }
    while (ib < b.length && ob === b[ib].length) {
      ib++;
      ob = 0;
    }
    if (ia === a.length || ib === b.length) return ia === a.length && ib === b.length ? -1 : pos;
    const n = Math.min(a[ia].length - oa, b[ib].length - ob);
    const x = Buffer.from(a[ia].buffer, a[ia].byteOffset + oa, n);
    const y = Buffer.from(b[ib].buffer, b[ib].byteOffset + ob, n);
    if (!x.equals(y)) {
      for (let i = 0; i < n; i++) if (x[i] !== y[i]) return pos + i;
    }
    oa += n;
    ob += n;
    pos += n;
  }
}

class Side {
  readonly pages = new PageMap();
  readonly counts = new Map<string, number>();
  private readonly iterator: AsyncIterator<StreamItem>;
  error?: StreamFormatError;
  done = false;
  items = 0;

  constructor(source: StreamSource, options: WalkOptions) {
    this.iterator = readStream(source, options.reader)[Symbol.asyncIterator]();
  }

  async next(): Promise<StreamItem | undefined> {
    if (this.done) return undefined;
    try {
      const r = await this.iterator.next();
      if (r.done) {
        this.done = true;
        return undefined;
      }
      const item = r.value;
      this.items++;
      if (item.kind === 'record') {
        const key = `${item.layer} ${item.record.name}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
        if (item.record.body.kind === 'page-data') this.pages.apply(item.record.body);
      }
      return item;
    } catch (e) {
      if (!(e instanceof StreamFormatError)) throw e;
      this.error = e;
      this.done = true;
      return undefined;
    }
  }
}

// Long (~80 lines): one merge walk over two streams whose cases share both sides' cursors.
export async function diffStreams(a: StreamSource, b: StreamSource, options: DiffOptions = {}): Promise<DiffResult> {
  const maxListed = options.maxListed ?? 20;
  const A = new Side(a, options);
  const B = new Side(b, options);
  const itemDifferences: ItemDifference[] = [];
  let itemDifferenceCount = 0;
  let first: ItemDifference | undefined;
  for (let position = 0; ; position++) {
    const [x, y] = await Promise.all([A.next(), B.next()]);
    if (!x && !y) break;
    options.onProgress?.(Math.max(x ? x.offset + x.length : 0, y ? y.offset + y.length : 0));
    let d: ItemDifference | undefined;
    if (x && y) {
      const at = firstDifferentByte(encodeItemChunks(encodableItem(x)), encodeItemChunks(encodableItem(y)));
      if (at >= 0) d = { position, a: describe(x), b: describe(y), offsetA: x.offset + at, offsetB: y.offset + at };
    } else {
      d = { position, ...(x ? { a: describe(x) } : {}), ...(y ? { b: describe(y) } : {}) };
    }
    if (!d) continue;
    itemDifferenceCount++;
    first ??= d;
    if (itemDifferences.length < maxListed) itemDifferences.push(d);
  }

  const typeCounts: DiffResult['typeCounts'] = [];
  for (const key of new Set([...A.counts.keys(), ...B.counts.keys()])) {
    const ca = A.counts.get(key) ?? 0;
    const cb = B.counts.get(key) ?? 0;
    if (ca !== cb) {
      const [layer, name] = key.split(' ');
      typeCounts.push({ layer, name, a: ca, b: cb });
    }
  }

  const pageDifferences: PageDifference[] = [];
  let pagesOnlyInA = 0,
    pagesOnlyInB = 0,
    pagesDiffering = 0;
  // Visit only the pfns either stream sent, in pfn order.
  for (const pfn of mergedPfns(A.pages.pfns(), B.pages.pfns())) {
    const ta = A.pages.typeOf(pfn);
    const tb = B.pages.typeOf(pfn);
    let what: PageDifference['what'] | undefined;
    if (tb === undefined) {
      what = 'only in A';
      pagesOnlyInA++;
    } else if (ta === undefined) {
      what = 'only in B';
      pagesOnlyInB++;
    } else if (ta !== tb) {
      what = 'type differs';
      pagesDiffering++;
    } else if (A.pages.hashOf(pfn) !== B.pages.hashOf(pfn)) {
      what = 'content differs';
      pagesDiffering++;
    }
    if (what && pageDifferences.length < maxListed) {
      pageDifferences.push({
        pfn,
        what,
        ...(ta !== undefined ? { typeA: PAGE_TYPES[ta].name } : {}),
        ...(tb !== undefined ? { typeB: PAGE_TYPES[tb].name } : {}),
      });
    }
  }
  const pageDifferenceCount = pagesOnlyInA + pagesOnlyInB + pagesDiffering;
  return {
    same: itemDifferenceCount === 0 && !A.error && !B.error,
    itemsA: A.items,
    itemsB: B.items,
    first,
    itemDifferences,
    itemDifferenceCount,
    typeCounts,
    pageDifferences,
    pageDifferenceCount,
    pagesOnlyInA,
    pagesOnlyInB,
    pagesDiffering,
    ...(A.error ? { errorA: A.error } : {}),
    ...(B.error ? { errorB: B.error } : {}),
  };
}

/** The union of two increasing pfn sequences, increasing. */
function* mergedPfns(a: Iterator<number>, b: Iterator<number>): Generator<number> {
  let x = a.next();
  let y = b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value < y.value)) {
      yield x.value;
      x = a.next();
    } else if (x.done || y.value < x.value) {
      yield y.value;
      y = b.next();
    } else {
      yield x.value;
      x = a.next();
      y = b.next();
    }
  }
}

function refText(r: ItemRef | undefined, at: number | undefined): string {
  if (!r) return '(stream ended)';
  return `${r.what} at ${offsetHex(r.offset)} (${grouped(r.length)} bytes)${at !== undefined ? `, first differing byte at ${offsetHex(at)}` : ''}`;
}

export function renderDiffText(nameA: string, nameB: string, r: DiffResult): string {
  const out: string[] = [];
  if (r.errorA) out.push(`A is invalid: ${r.errorA.message}`);
  if (r.errorB) out.push(`B is invalid: ${r.errorB.message}`);
  if (r.same) {
    out.push(`same: ${nameA} and ${nameB} hold the same ${grouped(r.itemsA)} headers and records`);
    return `${out.join('\n')}\n`;
  }
  out.push(`A: ${nameA}`, `B: ${nameB}`);
  if (r.first) {
    const f = r.first;
    const at = f.offsetA ?? f.a?.offset ?? f.b?.offset ?? 0;
    out.push(
      `first difference at offset ${at} (${offsetHex(at)}) in A${f.offsetB !== undefined && f.offsetB !== f.offsetA ? `, ${offsetHex(f.offsetB)} in B` : ''}`,
    );
  }
  if (r.itemDifferenceCount) {
    out.push('', `items that differ (position in the sequence): ${grouped(r.itemDifferenceCount)} of ${grouped(Math.max(r.itemsA, r.itemsB))}`);
    for (const d of r.itemDifferences) {
      out.push(`  [${d.position}] A: ${refText(d.a, d.offsetA)}`);
      out.push(`  ${' '.repeat(String(d.position).length + 2)} B: ${refText(d.b, d.offsetB)}`);
    }
    if (r.itemDifferenceCount > r.itemDifferences.length) out.push(`  … (+${grouped(r.itemDifferenceCount - r.itemDifferences.length)} more)`);
  }
  if (r.typeCounts.length) {
    out.push('', 'records added / removed (count in A → count in B):');
    for (const t of r.typeCounts)
      out.push(`  ${t.layer.padEnd(6)} ${t.name.padEnd(26)} ${grouped(t.a).padStart(7)} → ${grouped(t.b).padEnd(7)} (${t.b > t.a ? '+' : ''}${t.b - t.a})`);
  }
  if (r.pageDifferenceCount) {
    out.push(
      '',
      `pages that differ (last copy of each pfn): ${grouped(r.pageDifferenceCount)} — ${grouped(r.pagesDiffering)} changed, ${grouped(r.pagesOnlyInA)} only in A, ${grouped(r.pagesOnlyInB)} only in B`,
    );
    for (const p of r.pageDifferences) out.push(`  pfn ${hex(p.pfn)}: ${p.what}${p.typeA || p.typeB ? ` (${p.typeA ?? '-'} / ${p.typeB ?? '-'})` : ''}`);
    if (r.pageDifferenceCount > r.pageDifferences.length) out.push(`  … (+${grouped(r.pageDifferenceCount - r.pageDifferences.length)} more)`);
  } else {
    out.push('', 'pages: the memory both streams imply is the same');
  }
  return `${out.join('\n')}\n`;
}

export function diffJson(r: DiffResult): object {
  const err = (e?: StreamFormatError) => (e ? { rule: e.ruleId, offset: e.offset, message: e.message } : undefined);
  const { errorA, errorB, ...rest } = r;
  return { ...rest, errorA: err(errorA), errorB: err(errorB) };
}
