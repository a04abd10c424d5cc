/**
 * JSON form of a whole stream: its headers and records in order, as
 * `stream-inspect dump --format json` prints and `encode` reads. u64 values are
 * hex strings, blobs base64 (JSON has neither 64-bit integers nor bytes).
 * Validators are compiled once; errors name the JSON path.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
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
import { bodySchemaForKind, encodeRecordChunks, RecordJson, recordFromJson, recordToJson, type StreamRecord } from './records.js';
import type { Dialect } from '../format/record-types.js';

const U32 = Type.Integer({ minimum: 0, maximum: 0xffffffff });
const U16 = Type.Integer({ minimum: 0, maximum: 0xffff });

export const XlHeaderJson = Type.Object(
  {
    kind: Type.Literal('xl-header'),
    byteOrder: Type.Union([Type.Literal('little'), Type.Literal('big')]),
    mandatoryFlags: U32,
    optionalFlags: U32,
    /** The config text (including xl's terminating NUL) when it is UTF-8; else configBase64. */
    config: Type.Optional(Type.String()),
    configBase64: Type.Optional(Type.String()),
    optionalTail: Type.Optional(Type.String({ description: 'ignored optional data after the config, base64' })),
  },
  { additionalProperties: false },
);
export const LibxlHeaderJson = Type.Object({ kind: Type.Literal('libxl-header'), version: U32, options: U32 }, { additionalProperties: false });
export const LibxcImageHeaderJson = Type.Object(
  { kind: Type.Literal('libxc-image-header'), version: U32, options: U16, reserved16: U16, reserved32: U32 },
  { additionalProperties: false },
);
export const LibxcDomainHeaderJson = Type.Object(
  { kind: Type.Literal('libxc-domain-header'), domainType: U32, pageShift: U16, reserved: U16, xenMajor: U32, xenMinor: U32 },
  { additionalProperties: false },
);
export const RecordItemJson = Type.Object({ kind: Type.Literal('record'), ...RecordJson.properties }, { additionalProperties: false });
export const TrailingJson = Type.Object({ kind: Type.Literal('trailing'), data: Type.String({ description: 'bytes after the final END, base64' }) }, { additionalProperties: false });

export const StreamItemJson = Type.Union([XlHeaderJson, LibxlHeaderJson, LibxcImageHeaderJson, LibxcDomainHeaderJson, RecordItemJson, TrailingJson]);
export type StreamItemJsonForm = Static<typeof StreamItemJson>;

export const StreamDocumentJson = Type.Object(
  {
    format: Type.Literal('xen-migration-stream/1'),
    dialect: Type.Union([Type.Literal('upstream'), Type.Literal('postcopy-rfc')]),
    items: Type.Array(StreamItemJson),
  },
  { additionalProperties: true, description: 'A whole stream: headers and records in wire order. Other top-level keys (e.g. a summary) are ignored by encode.' },
);
export type StreamDocument = Static<typeof StreamDocumentJson>;

/** A stream item as a value (what the reader yields, without offsets). */
export type EncodableItem =
  | { kind: 'xl-header'; header: XlHeader }
  | { kind: 'libxl-header'; header: LibxlHeader }
  | { kind: 'libxc-image-header'; header: LibxcImageHeader }
  | { kind: 'libxc-domain-header'; header: LibxcDomainHeader }
  | { kind: 'record'; record: StreamRecord }
  | { kind: 'trailing'; data: Uint8Array };

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
  }
}

export function itemFromJson(j: StreamItemJsonForm, dialect: Dialect = 'upstream'): EncodableItem {
  switch (j.kind) {
    case 'xl-header': {
      const config = j.config !== undefined ? new Uint8Array(Buffer.from(j.config, 'utf8')) : j.configBase64 !== undefined ? fromBase64(j.configBase64) : undefined;
      return {
        kind: 'xl-header',
        header: { byteOrder: j.byteOrder, mandatoryFlags: j.mandatoryFlags, optionalFlags: j.optionalFlags, config, optionalTail: j.optionalTail ? fromBase64(j.optionalTail) : new Uint8Array(0) },
      };
    }
    case 'libxl-header':
      return { kind: 'libxl-header', header: { version: j.version, options: j.options } };
    case 'libxc-image-header':
      return { kind: 'libxc-image-header', header: { version: j.version, options: j.options, reserved16: j.reserved16, reserved32: j.reserved32 } };
    case 'libxc-domain-header':
      return { kind: 'libxc-domain-header', header: { domainType: j.domainType, pageShift: j.pageShift, reserved: j.reserved, xenMajor: j.xenMajor, xenMinor: j.xenMinor } };
    case 'record': {
      const { kind: _kind, ...rec } = j;
      return { kind: 'record', record: recordFromJson(rec, dialect) };
    }
    case 'trailing':
      return { kind: 'trailing', data: fromBase64(j.data) };
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
      return [item.data];
  }
}

const checks = new Map<TSchema, TypeCheck<TSchema>>();
function compiled<T extends TSchema>(schema: T): TypeCheck<T> {
  let c = checks.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    checks.set(schema, c);
  }
  return c as TypeCheck<T>;
}

/** Check a value against a schema; throws JsonFormError naming the first bad path. */
export function assertJson<T extends TSchema>(schema: T, value: unknown, basePath = ''): asserts value is Static<T> {
  const check = compiled(schema);
  if (check.Check(value)) return;
  // Union errors are vague: report the deepest path among the errors found.
  let best: { path: string; message: string } | undefined;
  for (const e of check.Errors(value)) {
    if (!best || e.path.length > best.path.length) best = { path: e.path, message: e.message };
  }
  throw new JsonFormError(basePath + (best?.path ?? ''), best?.message ?? 'does not match the schema');
}

/** Validate a parsed JSON document (item by item, so errors point at the item). */
export function parseStreamDocument(value: unknown): StreamDocument {
  if (typeof value !== 'object' || value === null) throw new JsonFormError('', 'expected an object');
  const doc = value as Record<string, unknown>;
  if (doc.format !== 'xen-migration-stream/1') throw new JsonFormError('/format', 'expected "xen-migration-stream/1"');
  if (doc.dialect !== 'upstream' && doc.dialect !== 'postcopy-rfc') throw new JsonFormError('/dialect', 'expected "upstream" or "postcopy-rfc"');
  if (!Array.isArray(doc.items)) throw new JsonFormError('/items', 'expected an array');
  doc.items.forEach((item: unknown, i: number) => {
    const kind = (item as { kind?: unknown } | null)?.kind;
    const schema =
      kind === 'xl-header' ? XlHeaderJson
      : kind === 'libxl-header' ? LibxlHeaderJson
      : kind === 'libxc-image-header' ? LibxcImageHeaderJson
      : kind === 'libxc-domain-header' ? LibxcDomainHeaderJson
      : kind === 'record' ? RecordItemJson
      : kind === 'trailing' ? TrailingJson
      : undefined;
    if (!schema) throw new JsonFormError(`/items/${i}/kind`, `unknown item kind ${JSON.stringify(kind)}`);
    if (kind === 'record') {
      // Check the body against its own kind's schema first: union errors say too little.
      const body = (item as { body?: { kind?: unknown } }).body;
      const bodySchema = bodySchemaForKind(body?.kind);
      if (!bodySchema) throw new JsonFormError(`/items/${i}/body/kind`, `unknown body kind ${JSON.stringify(body?.kind)}`);
      assertJson(bodySchema, body, `/items/${i}/body`);
    }
    assertJson(schema, item, `/items/${i}`);
  });
  return doc as StreamDocument;
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
