/**
 * What a record-table row expands to: the decoded fields as JSON (big blobs
 * and long arrays elided, so it stays small for a 4 MiB PAGE_DATA record), the
 * inspector's one-line reading of the fields, and a hexdump of the first bytes.
 */
import { encodeItemChunks } from '../codec/json.js';
import { encodeRecordHeader } from '../codec/records.js';
import { dataPageCount, encodePageDataEntries } from '../codec/bodies/page-data.js';
import { PAGE_SIZE } from '../format/constants.js';
import { encodableItem } from '../inspect/dump-json.js';
import { hexLines } from '../inspect/hexdump.js';
import { recordFields } from '../inspect/record-fields.js';
import type { StreamItem } from '../reader/items.js';

export interface RowDetail {
  /** Decoded fields, JSON, elided. */
  json: string;
  /** The inspector's reading of the fields (summary and detail lines). */
  fields: string[];
  /** Hexdump of the item's first bytes, absolute offsets. */
  hex: string;
  /** Bytes the hexdump shows of `total`. */
  hexShown: number;
  hexTotal: number;
}

const ARRAY_KEEP = 16;
const BLOB_PREVIEW = 24;

/** A JSON-able copy of a decoded value with blobs summarized and long arrays cut. */
export function elidedValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return `0x${value.toString(16)}`;
  if (value instanceof Uint8Array) {
    const head = Buffer.from(value.buffer, value.byteOffset, Math.min(value.length, BLOB_PREVIEW)).toString('hex');
    return `<${value.length} bytes${value.length ? `: ${head}${value.length > BLOB_PREVIEW ? '…' : ''}` : ''}>`;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, ARRAY_KEEP).map((v) => elidedValue(v, depth + 1));
    if (value.length > ARRAY_KEEP) kept.push(`… (+${value.length - ARRAY_KEEP} more, ${value.length} in all)`);
    return kept;
  }
  if (value && typeof value === 'object') {
    if (depth > 6) return '…';
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = elidedValue(v, depth + 1);
    return out;
  }
  return value;
}

/** The first `n` bytes of an item as it is on the wire (re-encoded losslessly by the codec; views, no copy of big bodies). */
export function headBytes(item: StreamItem, n: number): Uint8Array {
  const out = new Uint8Array(Math.min(n, item.length));
  let pos = 0;
  // Pages the reader stepped over: the record as far as it was read (header and pfn array).
  const chunks =
    item.kind === 'record' && item.record.body.kind === 'page-data' && item.record.body.pagesSkipped
      ? [encodeRecordHeader(item.record.type, item.bodyLength), encodePageDataEntries(item.record.body)]
      : encodeItemChunks(encodableItem(item));
  for (const chunk of chunks) {
    if (pos >= out.length) break;
    const take = Math.min(chunk.length, out.length - pos);
    out.set(chunk.subarray(0, take), pos);
    pos += take;
  }
  return out.subarray(0, pos);
}

export function rowDetail(item: StreamItem, hexBytes: number, jsonChars: number): RowDetail {
  let value: unknown;
  let fields: string[] = [];
  if (item.kind === 'record') {
    let body: unknown = item.record.body;
    if (item.record.body.kind === 'page-data' && item.record.body.pagesSkipped) {
      const { pagesSkipped: _skipped, ...entries } = item.record.body;
      body = { ...entries, pageData: `<${dataPageCount(item.record.body) * PAGE_SIZE} bytes of pages, not read>` };
    }
    value = {
      layer: item.layer,
      type: item.record.type,
      name: item.record.name,
      bodyLength: item.bodyLength,
      body,
      ...(item.record.padding ? { padding: item.record.padding } : {}),
    };
    const f = recordFields(item.record);
    fields = [f.summary, ...f.details].filter((l) => l.length > 0);
  } else if (item.kind === 'trailing') {
    value = { isGoMessage: item.isGoMessage, head: item.head };
  } else if (item.kind === 'container-part') {
    value = { wrapper: item.wrapper, part: item.part, ...item.fields };
  } else {
    const { config, ...rest } = item.header as unknown as Record<string, unknown>;
    value = { ...rest, ...(config instanceof Uint8Array ? { config: `<${config.length} bytes: shown in the config section>` } : {}) };
  }
  let json = JSON.stringify(elidedValue(value), null, 1);
  if (json.length > jsonChars) json = `${json.slice(0, jsonChars)}\n… (${json.length - jsonChars} more characters)`;
  let bytes: Uint8Array;
  try {
    bytes = headBytes(item, hexBytes);
  } catch {
    bytes = new Uint8Array(0); // a value the codec cannot re-encode: no hexdump, the JSON still shows it
  }
  return { json, fields, hex: hexLines(bytes, item.offset), hexShown: bytes.length, hexTotal: item.length };
}
