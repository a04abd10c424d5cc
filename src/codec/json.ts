/**
 * JSON form of a whole stream: its headers and records in order, as
 * `stream-inspect dump --format json` prints and `encode` reads. u64 values are
 * hex strings, blobs base64 (JSON has neither 64-bit integers nor bytes).
 * Validation against the schemas is in json-validate.ts.
 */
import type { Static } from '@sinclair/typebox';
import { fromBase64, toBase64 } from './bytes.js';
import { JsonFormError } from './errors.js';
import {
  encodeLibxcDomainHeader,
  encodeLibxcImageHeader,
  encodeLibxlHeader,
  encodeXlHeader,
  type LibxcDomainHeader,
  type LibxcImageHeader,
  type LibxlHeader,
  type XlHeader,
} from './headers.js';
import { encodeRecordChunks, recordFromJson, recordToJson, type StreamRecord } from './records.js';
import type { StreamDocumentJson, StreamItemJson, XlHeaderJson } from './json-schemas.js';
import type { Dialect } from '../format/record-types.js';

export type StreamItemJsonForm = Static<typeof StreamItemJson>;
export type StreamDocument = Static<typeof StreamDocumentJson>;

/** A stream item as a value (what the reader yields, without offsets). */
export type EncodableItem =
  | { kind: 'xl-header'; header: XlHeader }
  | { kind: 'libxl-header'; header: LibxlHeader }
  | { kind: 'libxc-image-header'; header: LibxcImageHeader }
  | { kind: 'libxc-domain-header'; header: LibxcDomainHeader }
  | { kind: 'record'; record: StreamRecord }
  | { kind: 'trailing'; data: Uint8Array }
  | { kind: 'container-part'; wrapper: 'libvirt' | 'xenserver'; part: string; data: Uint8Array; text?: string | undefined };

function utf8Exact(u8: Uint8Array): string | undefined {
  const s = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('utf8');
  return Buffer.from(s, 'utf8').equals(Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)) ? s : undefined;
}

export function itemToJson(item: EncodableItem, dialect: Dialect = 'upstream'): StreamItemJsonForm {
  switch (item.kind) {
    case 'xl-header': {
      const h = item.header;
      const j: Static<typeof XlHeaderJson> = { kind: 'xl-header', byteOrder: h.byteOrder, mandatoryFlags: h.mandatoryFlags, optionalFlags: h.optionalFlags };
      if (h.config) {
        const text = utf8Exact(h.config);
        if (text !== undefined) j.config = text;
        else j.configBase64 = toBase64(h.config);
      }
      if (h.optionalTail.length) j.optionalTail = toBase64(h.optionalTail);
      return j;
    }
    case 'libxl-header':
      return { kind: 'libxl-header', ...item.header };
    case 'libxc-image-header':
      return { kind: 'libxc-image-header', ...item.header };
    case 'libxc-domain-header':
      return { kind: 'libxc-domain-header', ...item.header };
    case 'record':
      return { kind: 'record', ...recordToJson(item.record, dialect) };
    case 'trailing':
      return { kind: 'trailing', data: toBase64(item.data) };
    case 'container-part':
      return {
        kind: 'container-part',
        wrapper: item.wrapper,
        part: item.part,
        data: toBase64(item.data),
        ...(item.text !== undefined ? { text: item.text } : {}),
      };
  }
}

export function itemFromJson(j: StreamItemJsonForm, dialect: Dialect = 'upstream'): EncodableItem {
  switch (j.kind) {
    case 'xl-header': {
      const config =
        j.config !== undefined ? new Uint8Array(Buffer.from(j.config, 'utf8')) : j.configBase64 !== undefined ? fromBase64(j.configBase64) : undefined;
      return {
        kind: 'xl-header',
        header: {
          byteOrder: j.byteOrder,
          mandatoryFlags: j.mandatoryFlags,
          optionalFlags: j.optionalFlags,
          config,
          optionalTail: j.optionalTail ? fromBase64(j.optionalTail) : new Uint8Array(0),
        },
      };
    }
    case 'libxl-header':
      return { kind: 'libxl-header', header: { version: j.version, options: j.options } };
    case 'libxc-image-header':
      return { kind: 'libxc-image-header', header: { version: j.version, options: j.options, reserved16: j.reserved16, reserved32: j.reserved32 } };
    case 'libxc-domain-header':
      return {
        kind: 'libxc-domain-header',
        header: { domainType: j.domainType, pageShift: j.pageShift, reserved: j.reserved, xenMajor: j.xenMajor, xenMinor: j.xenMinor },
      };
    case 'record': {
      const { kind: _kind, ...rec } = j;
      return { kind: 'record', record: recordFromJson(rec, dialect) };
    }
    case 'trailing':
      return { kind: 'trailing', data: fromBase64(j.data) };
    case 'container-part':
      return { kind: 'container-part', wrapper: j.wrapper, part: j.part, data: fromBase64(j.data) };
  }
}

/** Encode one item as chunks (views where possible). */
export function encodeItemChunks(item: EncodableItem, dialect: Dialect = 'upstream'): Uint8Array[] {
  switch (item.kind) {
    case 'xl-header':
      return [encodeXlHeader(item.header)];
    case 'libxl-header':
      return [encodeLibxlHeader(item.header)];
    case 'libxc-image-header':
      return [encodeLibxcImageHeader(item.header)];
    case 'libxc-domain-header':
      return [encodeLibxcDomainHeader(item.header)];
    case 'record':
      return encodeRecordChunks(item.record, dialect);
    case 'trailing':
    case 'container-part':
      return [item.data];
  }
}

/** JSON document → the stream's bytes, as chunks. */
export function encodeDocumentChunks(doc: StreamDocument): Uint8Array[] {
  const out: Uint8Array[] = [];
  doc.items.forEach((j, i) => {
    try {
      out.push(...encodeItemChunks(itemFromJson(j, doc.dialect), doc.dialect));
    } catch (e) {
      if (e instanceof JsonFormError) throw e;
      throw new JsonFormError(`/items/${i}`, (e as Error).message);
    }
  });
  return out;
}
