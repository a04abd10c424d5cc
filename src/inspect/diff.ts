/**
 * `diff` by meaning: two streams' headers and records are paired by identity
 * (layer and type, the vCPU of a vCPU record; the nth record of an identity
 * with the nth), so a record inserted or removed is reported once and the
 * rest still pair up. A pair whose bytes differ is compared field by field
 * (./diff-fields.ts: the record's parts when it has some, else its JSON).
 * Pages are compared by pfn (last copy wins), by a hash per pfn, and reported
 * as runs of pfns. Memory: a hash per pfn, plus the bytes of non-page records
 * (headers, policies, vCPU and device state) up to a budget; past it, such a
 * record is compared by hash only. An invalid stream is a difference.
 */
import { createHash } from 'node:crypto';
import { StreamFormatError } from '../codec/errors.js';
import { encodeItemChunks, itemToJson } from '../codec/json.js';
import { decodeRecord, recordToJson } from '../codec/records.js';
import { recordParts } from '../codec/machine/parts.js';
import { PAGE_TYPES } from '../format/page-types.js';
import type { Dialect } from '../format/record-types.js';
import { readStream } from '../reader/stream-reader.js';
import type { StreamSource } from '../reader/sources.js';
import type { StreamItem } from '../reader/items.js';
import { encodableItem } from './dump-json.js';
import { type FieldDifference, jsonDifferences, partsDifferences } from './diff-fields.js';
import { PageMap } from './page-map.js';
import type { WalkOptions } from './walk-options.js';

export type { FieldDifference } from './diff-fields.js';

export interface DiffOptions extends WalkOptions {
  /** Differences listed at most, per kind (records, fields per record, page runs). Default 20. */
  maxListed?: number;
  /** Bytes of non-page records kept per stream for field-level comparison. Default 64 MiB. */
  detailBudget?: number;
}

export interface ItemRef {
  offset: number;
  length: number;
  /** e.g. "record #37 libxc X86_CPUID_POLICY" or "libxl header". */
  what: string;
}

/** A header or record present in both streams whose bytes differ. */
export interface RecordDifference {
  /** Its identity, e.g. "libxc HVM_CONTEXT" or "libxc X86_PV_VCPU_BASIC vcpu 0". */
  identity: string;
  a: ItemRef;
  b: ItemRef;
  fields: FieldDifference[];
  fieldCount: number;
  /** Set when the record was past the detail budget: compared by hash only. */
  notKept?: true;
}

export interface PageRun {
  /** First pfn of the run. */
  pfn: number;
  last: number;
  count: number;
  what: 'only in A' | 'only in B' | 'type differs' | 'content differs';
  typeA?: string;
  typeB?: string;
}

export interface DiffResult {
  same: boolean;
  itemsA: number;
  itemsB: number;
  /** Offsets of the first differing byte in wire order (or where one stream ended). */
  first?: { offsetA?: number; offsetB?: number; a?: ItemRef; b?: ItemRef } | undefined;
  /** Headers and records in one stream only (pages excepted), each reported once. */
  onlyInA: Array<ItemRef & { identity: string }>;
  onlyInB: Array<ItemRef & { identity: string }>;
  /** Pairs that differ, listed up to maxListed; their total in recordDifferenceCount. */
  recordDifferences: RecordDifference[];
  recordDifferenceCount: number;
  fieldDifferenceCount: number;
  /** Record types whose counts differ, page records included. */
  typeCounts: Array<{ layer: string; name: string; a: number; b: number }>;
  /** Runs of consecutive pfns that differ the same way, listed up to maxListed. */
  pageDifferences: PageRun[];
  pageRunCount: number;
  pageDifferenceCount: number;
  pagesOnlyInA: number;
  pagesOnlyInB: number;
  pagesDiffering: number;
  errorA?: StreamFormatError;
  errorB?: StreamFormatError;
}

interface Kept {
  identity: string;
  ref: ItemRef;
  hash: string;
  /** The item's bytes (a copy), for field-level comparison; absent past the budget. */
  bytes?: Uint8Array;
  item: { kind: StreamItem['kind']; layer?: 'libxl' | 'libxc'; json?: unknown };
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

function identityOf(item: StreamItem): string {
  if (item.kind !== 'record') return item.kind.replace(/-/g, ' ');
  const body = item.record.body;
  return `${item.layer} ${item.record.name}${body.kind === 'vcpu' ? ` vcpu ${body.vcpuId}` : ''}`;
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
  readonly kept: Kept[] = [];
  private readonly iterator: AsyncIterator<StreamItem>;
  private budget: number;
  error?: StreamFormatError;
  done = false;
  items = 0;

  constructor(
    source: StreamSource,
    options: DiffOptions,
    readonly dialect: Dialect,
  ) {
    this.iterator = readStream(source, options.reader)[Symbol.asyncIterator]();
    this.budget = options.detailBudget ?? 64 * 2 ** 20;
  }

  async next(): Promise<StreamItem | undefined> {
    if (this.done) return undefined;
    try {
      const r = await this.iterator.next();
      if (r.done) {
        this.done = true;
        return undefined;
      }
      this.take(r.value);
      return r.value;
    } catch (e) {
      if (!(e instanceof StreamFormatError)) throw e;
      this.error = e;
      this.done = true;
      return undefined;
    }
  }

  private take(item: StreamItem): void {
    this.items++;
    if (item.kind === 'record') {
      const key = `${item.layer} ${item.record.name}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      if (item.record.body.kind === 'page-data') {
        this.pages.apply(item.record.body);
        return;
      }
    }
    const chunks = encodeItemChunks(encodableItem(item), this.dialect);
    const hash = createHash('sha256');
    let length = 0;
    for (const c of chunks) {
      hash.update(c);
      length += c.length;
    }
    const kept: Kept = { identity: identityOf(item), ref: describe(item), hash: hash.digest('hex'), item: { kind: item.kind } };
    if (item.kind === 'record') kept.item.layer = item.layer;
    else kept.item.json = itemToJson(encodableItem(item), this.dialect);
    if (length <= this.budget) {
      this.budget -= length;
      kept.bytes = Buffer.concat(chunks);
    }
    this.kept.push(kept);
  }
}

/** The xl header's JSON config parsed, so that its differences are by key (`config.b_info.max_memkb`). */
function withParsedConfig(json: unknown): unknown {
  const config = (json as { config?: unknown } | undefined)?.config;
  if (typeof config !== 'string') return json;
  try {
    return { ...(json as object), config: JSON.parse(config.replace(/\0$/, '')) as unknown };
  } catch {
    return json;
  }
}

function fieldDifferences(x: Kept, y: Kept, dialect: Dialect): FieldDifference[] {
  const out: FieldDifference[] = [];
  if (x.item.kind !== 'record' || !x.bytes || !y.bytes) {
    jsonDifferences('', withParsedConfig(x.item.json), withParsedConfig(y.item.json), out);
    return out;
  }
  const layer = x.item.layer ?? 'libxc';
  const ra = decodeRecord(layer, x.bytes, 0, { offset: x.ref.offset }, dialect).record;
  const rb = decodeRecord(layer, y.bytes, 0, { offset: y.ref.offset }, dialect).record;
  const pa = recordParts(ra);
  const pb = recordParts(rb);
  if (pa.length || pb.length) partsDifferences(pa, pb, out);
  else jsonDifferences('', recordToJson(ra, dialect), recordToJson(rb, dialect), out);
  return out;
}

/** Kept items of both sides paired by identity, the nth with the nth, in A's order. */
function pairRecords(
  A: Side,
  B: Side,
  maxListed: number,
  dialect: Dialect,
): Pick<DiffResult, 'onlyInA' | 'onlyInB' | 'recordDifferences' | 'recordDifferenceCount' | 'fieldDifferenceCount'> {
  const queues = new Map<string, Kept[]>();
  for (const k of B.kept) queues.set(k.identity, [...(queues.get(k.identity) ?? []), k]);
  const onlyInA: DiffResult['onlyInA'] = [];
  const recordDifferences: RecordDifference[] = [];
  let recordDifferenceCount = 0;
  let fieldDifferenceCount = 0;
  for (const x of A.kept) {
    const y = queues.get(x.identity)?.shift();
    if (!y) {
      onlyInA.push({ identity: x.identity, ...x.ref });
      continue;
    }
    if (x.hash === y.hash) continue;
    recordDifferenceCount++;
    const fields = x.bytes && y.bytes ? fieldDifferences(x, y, dialect) : [];
    fieldDifferenceCount += fields.length;
    if (recordDifferences.length < maxListed)
      recordDifferences.push({
        identity: x.identity,
        a: x.ref,
        b: y.ref,
        fields: fields.slice(0, maxListed),
        fieldCount: fields.length,
        ...(x.bytes && y.bytes ? {} : { notKept: true as const }),
      });
  }
  const onlyInB: DiffResult['onlyInB'] = [];
  for (const k of B.kept) if (queues.get(k.identity)?.includes(k)) onlyInB.push({ identity: k.identity, ...k.ref });
  return { onlyInA, onlyInB, recordDifferences, recordDifferenceCount, fieldDifferenceCount };
}

// Long (~80 lines): one merge walk over two streams whose cases share both sides' cursors.
export async function diffStreams(a: StreamSource, b: StreamSource, options: DiffOptions = {}): Promise<DiffResult> {
  const maxListed = options.maxListed ?? 20;
  const dialect = options.reader?.dialect ?? 'upstream';
  const A = new Side(a, options, dialect);
  const B = new Side(b, options, dialect);
  let first: DiffResult['first'];
  for (;;) {
    const [x, y] = await Promise.all([A.next(), B.next()]);
    if (!x && !y) break;
    options.onProgress?.(Math.max(x ? x.offset + x.length : 0, y ? y.offset + y.length : 0));
    if (first) continue;
    if (x && y) {
      const at = firstDifferentByte(encodeItemChunks(encodableItem(x), dialect), encodeItemChunks(encodableItem(y), dialect));
      if (at >= 0) first = { a: describe(x), b: describe(y), offsetA: x.offset + at, offsetB: y.offset + at };
    } else first = { ...(x ? { a: describe(x), offsetA: x.offset } : {}), ...(y ? { b: describe(y), offsetB: y.offset } : {}) };
  }
  const records = pairRecords(A, B, maxListed, dialect);
  const typeCounts: DiffResult['typeCounts'] = [];
  for (const key of new Set([...A.counts.keys(), ...B.counts.keys()])) {
    const ca = A.counts.get(key) ?? 0;
    const cb = B.counts.get(key) ?? 0;
    if (ca !== cb) {
      const [layer, name] = key.split(' ');
      typeCounts.push({ layer, name, a: ca, b: cb });
    }
  }
  const pages = pageRuns(A.pages, B.pages, maxListed);
  const differs = records.onlyInA.length + records.onlyInB.length + records.recordDifferenceCount + pages.pageDifferenceCount > 0;
  return {
    same: !differs && first === undefined && !A.error && !B.error,
    itemsA: A.items,
    itemsB: B.items,
    first,
    ...records,
    typeCounts,
    ...pages,
    ...(A.error ? { errorA: A.error } : {}),
    ...(B.error ? { errorB: B.error } : {}),
  };
}

type PageCounts = Pick<DiffResult, 'pageDifferences' | 'pageRunCount' | 'pageDifferenceCount' | 'pagesOnlyInA' | 'pagesOnlyInB' | 'pagesDiffering'>;

/** The pfns either stream sent, in order, with consecutive pfns that differ the same way as one run. */
function pageRuns(A: PageMap, B: PageMap, maxListed: number): PageCounts {
  const runs: PageRun[] = [];
  let run: PageRun | undefined;
  let pageRunCount = 0;
  const counts = { 'only in A': 0, 'only in B': 0, 'type differs': 0, 'content differs': 0 };
  for (const pfn of mergedPfns(A.pfns(), B.pfns())) {
    const ta = A.typeOf(pfn);
    const tb = B.typeOf(pfn);
    let what: PageRun['what'] | undefined;
    if (tb === undefined) what = 'only in A';
    else if (ta === undefined) what = 'only in B';
    else if (ta !== tb) what = 'type differs';
    else if (A.hashOf(pfn) !== B.hashOf(pfn)) what = 'content differs';
    if (!what) continue;
    counts[what]++;
    const typeA = ta !== undefined ? PAGE_TYPES[ta].name : undefined;
    const typeB = tb !== undefined ? PAGE_TYPES[tb].name : undefined;
    if (run && run.last + 1 === pfn && run.what === what && run.typeA === typeA && run.typeB === typeB) {
      run.last = pfn;
      run.count++;
      continue;
    }
    pageRunCount++;
    run = { pfn, last: pfn, count: 1, what, ...(typeA !== undefined ? { typeA } : {}), ...(typeB !== undefined ? { typeB } : {}) };
    if (runs.length < maxListed) runs.push(run);
  }
  return {
    pageDifferences: runs,
    pageRunCount,
    pageDifferenceCount: counts['only in A'] + counts['only in B'] + counts['type differs'] + counts['content differs'],
    pagesOnlyInA: counts['only in A'],
    pagesOnlyInB: counts['only in B'],
    pagesDiffering: counts['type differs'] + counts['content differs'],
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
