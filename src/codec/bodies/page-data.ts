/**
 * PAGE_DATA (and the RFC's POSTCOPY_PAGE_DATA): u32 count, u32 reserved,
 * u64 pfn[count] with the page type in bits 63–60, then one 4096-byte page per
 * data-bearing entry, in pfn-array order. Also the page-less pfn lists of the
 * RFC (POSTCOPY_PFNS, POSTCOPY_FAULT), which share the header and pfn array.
 */
import { PAGE_SIZE } from '../../format/constants.js';
import { PAGE_TYPE_HAS_DATA, PAGE_TYPE_VALID } from '../../format/page-types.js';
import { layoutField, type LayoutJson } from '../../format/layout.js';
import { PAGE_DATA_HEAD, PAGE_DATA_PFN } from '../../format/layouts/page-data.js';
import { dataView, fromBase64, toBase64 } from '../bytes.js';
import { EncodeError, formatError, type DecodeContext } from '../errors.js';
import type { BodyCodec } from './body-codec.js';

export interface PfnEntries {
  /** Number of entries as written in the record (equals pfns.length in a valid record). */
  count: number;
  reserved: number;
  /** Bits 51–0 of each entry. */
  pfns: number[];
  /** Bits 63–60 of each entry (XEN_DOMCTL_PFINFO_* >> 28). */
  types: number[];
  /** Bits 59–52 of each entry; present only when some are non-zero (reserved, kept for exact re-encoding). */
  pfnReservedBits?: number[];
}

export interface PageDataBody extends PfnEntries {
  kind: 'page-data';
  /**
   * View of all page contents: 4096 bytes per data-bearing entry, in entry order.
   * Empty when the reader skipped them (`pagesSkipped`).
   */
  pageData: Uint8Array;
  /**
   * Set when a reader with `pageContents: 'skip'` decoded the record from its
   * header and pfn array and stepped over the pages without reading them: the
   * record was checked (length included), but `pageData` is empty.
   */
  pagesSkipped?: true;
}

export interface PfnListBody extends PfnEntries {
  kind: 'pfn-list';
}

const TWO_32 = 0x1_0000_0000;
// The hot path reads the head and pfn array with DataView calls at the table's offsets
// (bench/micro.ts: faster than decoding an object per entry through the layout codec).
const HEAD_SIZE = PAGE_DATA_HEAD.size;
const COUNT_AT = layoutField(PAGE_DATA_HEAD, 'count').offset;
const RESERVED_AT = layoutField(PAGE_DATA_HEAD, 'reserved').offset;
const PFN_SIZE = PAGE_DATA_PFN.size;

/** Number of entries whose type carries a page of data. */
export function countDataPages(types: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < types.length; i++) n += PAGE_TYPE_HAS_DATA[types[i] & 0xf];
  return n;
}

/** Number of pages of data the record carries (also when their contents were skipped). */
export function dataPageCount(body: PageDataBody): number {
  return body.pagesSkipped ? countDataPages(body.types) : body.pageData.length / PAGE_SIZE;
}

function pagesRead(body: PageDataBody): void {
  if (body.pagesSkipped) throw new Error("this PAGE_DATA record's page contents were skipped (reader option pageContents: 'skip')");
}

/** The page of entry `k`-th data page (0-based among data-bearing entries), as a view. */
export function pageAt(body: PageDataBody, dataIndex: number): Uint8Array {
  pagesRead(body);
  return body.pageData.subarray(dataIndex * PAGE_SIZE, (dataIndex + 1) * PAGE_SIZE);
}

/** Visit every entry: pfn, type and (for data-bearing entries) its page view. */
export function forEachPage(body: PageDataBody, visit: (pfn: number, type: number, page: Uint8Array | undefined, entryIndex: number) => void): void {
  pagesRead(body);
  let k = 0;
  for (let i = 0; i < body.pfns.length; i++) {
    const t = body.types[i];
    if (PAGE_TYPE_HAS_DATA[t]) {
      visit(body.pfns[i], t, body.pageData.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE), i);
      k++;
    } else {
      visit(body.pfns[i], t, undefined, i);
    }
  }
}

/**
 * Decode header + pfn array. Returns the entries and the byte length they used.
 * `withTypes`: false for POSTCOPY_FAULT-style lists whose pfns carry no type bits
 * (then bits 63–52 are kept in pfnReservedBits/types as found).
 */
function decodeEntries(bytes: Uint8Array, at: DecodeContext): { entries: PfnEntries; dataPages: number } {
  if (bytes.length < HEAD_SIZE) throw formatError('PAGE_DATA_SHORT', at, { expected: `≥ ${HEAD_SIZE} bytes`, actual: bytes.length });
  const dv = dataView(bytes);
  const count = dv.getUint32(COUNT_AT, true);
  const reserved = dv.getUint32(RESERVED_AT, true);
  if (count === 0) throw formatError('PAGE_DATA_COUNT_ZERO', at, { expected: 'count ≥ 1', actual: 0 });
  if (HEAD_SIZE + PFN_SIZE * count > bytes.length) {
    throw formatError('PAGE_DATA_PFN_ARRAY', at, { expected: `≥ ${HEAD_SIZE + PFN_SIZE * count} bytes for ${count} pfns`, actual: bytes.length });
  }
  const pfns = new Array<number>(count);
  const types = new Array<number>(count);
  let reservedBits: number[] | undefined;
  let dataPages = 0;
  for (let i = 0, off = HEAD_SIZE; i < count; i++, off += PFN_SIZE) {
    const lo = dv.getUint32(off, true);
    const hi = dv.getUint32(off + 4, true);
    const type = hi >>> 28;
    if (PAGE_TYPE_VALID[type] === 0) {
      throw formatError('PAGE_DATA_TYPE', at, { relative: off, expected: 'type nibble 0–4 or 9–15', actual: `0x${type.toString(16)} in pfn[${i}]` });
    }
    const rb = (hi >>> 20) & 0xff;
    if (rb !== 0) {
      reservedBits ??= new Array<number>(count).fill(0);
      reservedBits[i] = rb;
    }
    pfns[i] = (hi & 0xfffff) * TWO_32 + lo;
    types[i] = type;
    dataPages += PAGE_TYPE_HAS_DATA[type];
  }
  const entries: PfnEntries = { count, reserved, pfns, types };
  if (reservedBits) entries.pfnReservedBits = reservedBits;
  return { entries, dataPages };
}

function encodeEntries(e: PfnEntries, kind: string): Uint8Array {
  if (e.pfns.length !== e.types.length) throw new EncodeError(`${kind}: pfns and types differ in length`);
  const n = e.pfns.length;
  const out = new Uint8Array(HEAD_SIZE + PFN_SIZE * n);
  const dv = dataView(out);
  dv.setUint32(COUNT_AT, e.count, true);
  dv.setUint32(RESERVED_AT, e.reserved, true);
  for (let i = 0, off = HEAD_SIZE; i < n; i++, off += PFN_SIZE) {
    const pfn = e.pfns[i];
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= 2 ** 52) throw new EncodeError(`${kind}: pfn[${i}] = ${pfn} is not a 52-bit pfn`);
    const type = e.types[i];
    if (!Number.isInteger(type) || type < 0 || type > 15) throw new EncodeError(`${kind}: types[${i}] = ${type} is not a nibble`);
    const rb = e.pfnReservedBits?.[i] ?? 0;
    dv.setUint32(off, pfn % TWO_32, true);
    dv.setUint32(off + 4, ((type << 28) | ((rb & 0xff) << 20) | Math.floor(pfn / TWO_32)) >>> 0, true);
  }
  return out;
}

/** The count/reserved words and pfn array as on the wire (what a reader that skipped the pages still has). */
export function encodePageDataEntries(e: PfnEntries): Uint8Array {
  return encodeEntries(e, 'PAGE_DATA');
}

/** JSON forms: the head's fields from the table, then the pfn array split into pfns and types. */
type EntriesJsonForm = LayoutJson<typeof PAGE_DATA_HEAD> & { pfns: number[]; types: number[]; pfnReservedBits?: number[] };
export type PageDataJsonForm = { kind: 'page-data'; pages: string[] } & EntriesJsonForm;
export type PfnListJsonForm = { kind: 'pfn-list' } & EntriesJsonForm;

function entriesJson(e: PfnEntries): EntriesJsonForm {
  const j: EntriesJsonForm = {
    count: e.count,
    reserved: e.reserved,
    pfns: e.pfns,
    types: e.types,
  };
  if (e.pfnReservedBits) j.pfnReservedBits = e.pfnReservedBits;
  return j;
}

function entriesFromJson(j: EntriesJsonForm): PfnEntries {
  const e: PfnEntries = { count: j.count, reserved: j.reserved, pfns: j.pfns, types: j.types };
  if (j.pfnReservedBits) e.pfnReservedBits = j.pfnReservedBits;
  return e;
}

/** The body length the pfn array implies must equal the one the record header claims. */
function checkPageDataLength(count: number, dataPages: number, bodyLength: number, at: DecodeContext): void {
  const expected = HEAD_SIZE + PFN_SIZE * count + PAGE_SIZE * dataPages;
  if (bodyLength !== expected) {
    throw formatError('PAGE_DATA_LENGTH', at, {
      expected: `8 + 8×${count} + 4096×${dataPages} = ${expected}`,
      actual: bodyLength,
    });
  }
}

/**
 * How many leading body bytes decoding PAGE_DATA without its pages needs: the
 * count/reserved words and the pfn array, given the first 8 body bytes. Undefined
 * when the claimed pfn array does not fit in the body (the full decode reports that).
 */
export function pageDataEntriesLength(head: Uint8Array, bodyLength: number): number | undefined {
  if (bodyLength < HEAD_SIZE || head.length < HEAD_SIZE) return undefined;
  const n = HEAD_SIZE + PFN_SIZE * dataView(head).getUint32(COUNT_AT, true);
  return n <= bodyLength ? n : undefined;
}

/**
 * PAGE_DATA decoded from its header and pfn array alone (`entryBytes`, the
 * first pageDataEntriesLength() body bytes), for a reader that steps over the
 * pages: the same checks and errors as a full decode of a `bodyLength` body,
 * none of which looks at page contents.
 */
export function decodePageDataSkippingPages(entryBytes: Uint8Array, bodyLength: number, at: DecodeContext): PageDataBody {
  const { entries, dataPages } = decodeEntries(entryBytes, at);
  checkPageDataLength(entries.count, dataPages, bodyLength, at);
  return { kind: 'page-data', ...entries, pageData: new Uint8Array(0), pagesSkipped: true };
}

export const pageDataCodec: BodyCodec<PageDataBody, PageDataJsonForm> = {
  layout: 'page-data',
  table: PAGE_DATA_HEAD,
  decode(bytes, at) {
    const { entries, dataPages } = decodeEntries(bytes, at);
    checkPageDataLength(entries.count, dataPages, bytes.length, at);
    return { kind: 'page-data', ...entries, pageData: bytes.subarray(HEAD_SIZE + PFN_SIZE * entries.count) };
  },
  encodedLength: (b) => HEAD_SIZE + PFN_SIZE * b.pfns.length + b.pageData.length,
  encode(b) {
    pagesRead(b);
    const want = countDataPages(b.types) * PAGE_SIZE;
    if (b.pageData.length !== want) throw new EncodeError(`PAGE_DATA: ${b.pageData.length} bytes of pages for ${want / PAGE_SIZE} data-bearing entries`);
    return [encodeEntries(b, 'PAGE_DATA'), b.pageData];
  },
  toJson(b) {
    pagesRead(b);
    const pages: string[] = [];
    for (let off = 0; off < b.pageData.length; off += PAGE_SIZE) pages.push(toBase64(b.pageData.subarray(off, off + PAGE_SIZE)));
    return { kind: 'page-data', ...entriesJson(b), pages };
  },
  fromJson(j) {
    const pageData = new Uint8Array(j.pages.length * PAGE_SIZE);
    j.pages.forEach((p, i) => {
      const bytes = fromBase64(p);
      if (bytes.length !== PAGE_SIZE) throw new EncodeError(`PAGE_DATA: pages[${i}] has ${bytes.length} bytes, not 4096`);
      pageData.set(bytes, i * PAGE_SIZE);
    });
    return { kind: 'page-data', ...entriesFromJson(j), pageData };
  },
};

/** POSTCOPY_PFNS / POSTCOPY_FAULT: the PAGE_DATA header and pfn array, no pages. */
export const pfnListCodec: BodyCodec<PfnListBody, PfnListJsonForm> = {
  layout: 'pfn-list',
  table: PAGE_DATA_HEAD,
  decode(bytes, at) {
    const { entries } = decodeEntries(bytes, at);
    const expected = HEAD_SIZE + PFN_SIZE * entries.count;
    if (bytes.length !== expected) {
      throw formatError('PC_PFNS_LENGTH', at, { expected: `8 + 8×${entries.count} = ${expected}`, actual: bytes.length });
    }
    return { kind: 'pfn-list', ...entries };
  },
  encodedLength: (b) => HEAD_SIZE + PFN_SIZE * b.pfns.length,
  encode: (b) => [encodeEntries(b, 'pfn list')],
  toJson: (b) => ({ kind: 'pfn-list', ...entriesJson(b) }),
  fromJson: (j) => ({ kind: 'pfn-list', ...entriesFromJson(j) }),
};
