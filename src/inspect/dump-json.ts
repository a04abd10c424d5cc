/**
 * The machine-readable dump forms. `json` is one StreamDocumentJson document
 * (what `encode` reads), written item by item so it never exists as one
 * string; `ndjson` is one object per line with offsets, for tools and huge
 * files: page contents left out, pfns only with `pages`.
 */
import { toBase64 } from '../codec/bytes.js';
import { itemToJson, type EncodableItem, type StreamItemJsonForm } from '../codec/json.js';
import { recordToJson, type StreamRecord } from '../codec/records.js';
import { decodedJson } from './decoded-json.js';
import { recordJsonPieces } from './json-pieces.js';
import { dataPageCount, type PageDataBody } from '../codec/bodies/page-data.js';
import type { Dialect } from '../format/record-types.js';
import type { Problem, StreamEnd, StreamItem } from '../reader/items.js';

/** A reader item as the codec's encodable item. Trailing bytes: only their head is kept by the reader. */
export function encodableItem(item: StreamItem): EncodableItem {
  switch (item.kind) {
    case 'xl-header':
    case 'libxl-header':
    case 'libxc-image-header':
    case 'libxc-domain-header':
      return { kind: item.kind, header: item.header } as EncodableItem;
    case 'record':
      return { kind: 'record', record: item.record };
    case 'trailing':
      return { kind: 'trailing', data: item.head.subarray(0, Math.min(item.head.length, item.length)) };
    case 'container-part':
      return { kind: 'container-part', wrapper: item.wrapper, part: item.part, data: item.bytes, text: item.text };
  }
}

/** Whether the JSON form of the item holds all its bytes (the reader keeps only 64 bytes of trailing data). */
export function isCompleteInJson(item: StreamItem): boolean {
  return item.kind !== 'trailing' || item.head.length >= item.length;
}

export function jsonDocumentHead(dialect: Dialect): string {
  return `{"format":"xen-migration-stream/1","dialect":${JSON.stringify(dialect)},"items":[\n`;
}

export function jsonDocumentItem(item: StreamItem, dialect: Dialect, first: boolean): string {
  const j: StreamItemJsonForm = itemToJson(encodableItem(item), dialect);
  return (first ? '' : ',\n') + JSON.stringify(j);
}

/** jsonDocumentItem in pieces: a long list body is never one string (./json-pieces.ts). */
export function jsonDocumentItemPieces(item: StreamItem, dialect: Dialect, first: boolean): Iterable<string> {
  if (item.kind !== 'record') return [jsonDocumentItem(item, dialect, first)];
  return recordJsonPieces(item.record, dialect, (record) => jsonDocumentItem({ ...item, record }, dialect, first));
}

/** ndjsonItem in pieces: a long list body is never one string (./json-pieces.ts). */
export function ndjsonItemPieces(item: StreamItem, dialect: Dialect, pages: boolean): Iterable<string> {
  if (item.kind !== 'record') return [ndjsonItem(item, dialect, pages)];
  return recordJsonPieces(item.record, dialect, (record) => ndjsonItem({ ...item, record }, dialect, pages));
}

/** Closes the items array; how the stream ended and the problems go in extra keys (encode ignores them). */
export function jsonDocumentTail(end: StreamEnd, problems: readonly Problem[]): string {
  return `\n],"end":${JSON.stringify(end)},"problems":${JSON.stringify(problems.map(problemJson))}}\n`;
}

export function problemJson(p: Problem): { rule: string; severity: string; offset: number; recordIndex?: number; message: string } {
  return {
    rule: p.rule.id,
    severity: p.severity,
    offset: p.offset,
    ...(p.recordIndex !== undefined ? { recordIndex: p.recordIndex } : {}),
    message: p.message,
  };
}

export function ndjsonItem(item: StreamItem, dialect: Dialect, pages: boolean): string {
  const where = { offset: item.offset, length: item.length };
  switch (item.kind) {
    case 'record': {
      const rec = item.record;
      // Page contents never go into ndjson: build PAGE_DATA's fields directly
      // rather than base64-encoding 4 MiB of pages only to drop them.
      const j = rec.body.kind === 'page-data' ? { body: pageDataFields(rec.body), padding: undefined } : recordToJson(rec, dialect);
      const body = j.body as Record<string, unknown>;
      if (!pages && Array.isArray(body.pfns) && body.kind !== 'dirty-pfn-list') {
        delete body.pfns;
        delete body.types;
        delete body.pfnReservedBits;
      }
      const line = {
        kind: 'record',
        ...where,
        index: item.index,
        layer: item.layer,
        type: item.record.type,
        name: item.record.name,
        bodyLength: item.bodyLength,
        ...(item.checkpoint !== undefined ? { checkpoint: item.checkpoint } : {}),
        body,
        ...(j.padding ? { padding: j.padding } : {}),
        ...decodedKey(rec),
      };
      return `${JSON.stringify(line)}\n`;
    }
    case 'trailing':
      return `${JSON.stringify({ kind: 'trailing', ...where, isGoMessage: item.isGoMessage, head: toBase64(item.head) })}\n`;
    default: {
      const { kind, ...fields } = itemToJson(encodableItem(item), dialect);
      // xl writes its config with a terminating NUL; without it `jq '.config | fromjson'` works.
      // (The json document keeps it: encode must give back the same bytes.)
      if ('config' in fields && typeof fields.config === 'string' && fields.config.endsWith('\0')) {
        return `${JSON.stringify({ kind, ...where, ...fields, config: fields.config.slice(0, -1), configNulTerminated: true })}\n`;
      }
      return `${JSON.stringify({ kind, ...where, ...fields })}\n`;
    }
  }
}

function decodedKey(rec: StreamRecord): { decoded?: object } {
  const decoded = decodedJson(rec);
  return decoded ? { decoded } : {};
}

function pageDataFields(b: PageDataBody): Record<string, unknown> {
  const fields: Record<string, unknown> = { kind: 'page-data', count: b.count, reserved: b.reserved, pfns: b.pfns, types: b.types };
  if (b.pfnReservedBits) fields.pfnReservedBits = b.pfnReservedBits;
  fields.dataPages = dataPageCount(b);
  return fields;
}

export function ndjsonEnd(end: StreamEnd, problems: readonly Problem[]): string {
  return `${JSON.stringify({ kind: 'end', ...end, problems: problems.map(problemJson) })}\n`;
}
