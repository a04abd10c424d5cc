/**
 * Records: framing (u32 type, u32 body_length, body, zero padding to 8) and the
 * registry that maps each record type's body layout to its codec.
 */
import type { Static } from '@sinclair/typebox';
import type { RecordJson } from './json-schemas.js';
import { RECORD_HEADER_SIZE, roundUp8 } from '../format/constants.js';
import { layoutField, type LayoutValue } from '../format/layout.js';
import { RECORD_HEADER } from '../format/layouts/record-header.js';
import { recordTypeName, recordTypeTable, type BodyLayout, type Dialect, type Layer, type RecordTypeInfo } from '../format/record-types.js';
import { concatBytes, dataView, fromHex, isAllZero, toHex } from './bytes.js';
import { EncodeError, formatError, type DecodeContext } from './errors.js';
import type { BodyCodec } from './bodies/body-codec.js';
import { applyMachineJson, machineJson } from './machine/machine-json.js';
import { emptyCodec, opaqueCodec, type EmptyBody, type OpaqueBody } from './bodies/simple.js';
import { pageDataCodec, pfnListCodec, type PageDataBody, type PfnListBody } from './bodies/page-data.js';
import { p2mFramesCodec, pvInfoCodec, sharedInfoCodec, vcpuCodec, type P2mFramesBody, type PvInfoBody, type VcpuBody } from './bodies/x86-pv.js';
import {
  cpuidPolicyCodec,
  dirtyPfnListCodec,
  hvmContextCodec,
  hvmParamsCodec,
  msrPolicyCodec,
  tscInfoCodec,
  type CpuidPolicyBody,
  type DirtyPfnListBody,
  type HvmParamsBody,
  type MsrPolicyBody,
  type TscInfoBody,
} from './bodies/x86-common.js';
import {
  checkpointStateCodec,
  emulatorContextCodec,
  emulatorXenstoreCodec,
  type CheckpointStateBody,
  type EmulatorContextBody,
  type EmulatorXenstoreBody,
} from './bodies/libxl.js';

export type RecordBody =
  | EmptyBody
  | OpaqueBody
  | PageDataBody
  | PfnListBody
  | PvInfoBody
  | P2mFramesBody
  | VcpuBody
  | TscInfoBody
  | HvmParamsBody
  | CpuidPolicyBody
  | MsrPolicyBody
  | DirtyPfnListBody
  | EmulatorXenstoreBody
  | EmulatorContextBody
  | CheckpointStateBody;

/** A decoded record. Bodies hold views into the input, never copies of it. */
export interface StreamRecord<B extends RecordBody = RecordBody> {
  layer: Layer;
  type: number;
  /** Name from the type table (RESERVED_0x… / OPTIONAL_0x… for unknown types). */
  name: string;
  body: B;
  /** Padding bytes, only when some are non-zero (kept so decode → encode gives the same bytes). */
  padding?: Uint8Array;
}

// Each codec's value and JSON types differ; the registry erases them behind the record union.
type AnyBodyCodec = BodyCodec<RecordBody, unknown>;
const asAny = <B, J>(c: BodyCodec<B, J>): AnyBodyCodec => c as unknown as AnyBodyCodec;

export const BODY_CODECS: Readonly<Record<BodyLayout, AnyBodyCodec>> = {
  empty: asAny(emptyCodec),
  opaque: asAny(opaqueCodec),
  'page-data': asAny(pageDataCodec),
  'pfn-list': asAny(pfnListCodec),
  'pv-info': asAny(pvInfoCodec),
  'p2m-frames': asAny(p2mFramesCodec),
  vcpu: asAny(vcpuCodec),
  'shared-info': asAny(sharedInfoCodec),
  'tsc-info': asAny(tscInfoCodec),
  'hvm-context': asAny(hvmContextCodec),
  'hvm-params': asAny(hvmParamsCodec),
  'cpuid-policy': asAny(cpuidPolicyCodec),
  'msr-policy': asAny(msrPolicyCodec),
  'dirty-pfn-list': asAny(dirtyPfnListCodec),
  'emulator-xenstore': asAny(emulatorXenstoreCodec),
  'emulator-context': asAny(emulatorContextCodec),
  'checkpoint-state': asAny(checkpointStateCodec),
};

export function bodyCodecFor(info: RecordTypeInfo | undefined): AnyBodyCodec {
  return info ? BODY_CODECS[info.layout] : BODY_CODECS.opaque;
}

/** Bytes a record occupies on the wire. */
export function recordWireLength(bodyLength: number): number {
  return RECORD_HEADER_SIZE + roundUp8(bodyLength);
}

export type RecordHeader = LayoutValue<typeof RECORD_HEADER>;

// The record header is read on every record: two DataView calls at the table's offsets
// (src/format/layouts/record-header.ts), not the layout codec's object per call.
export const RECORD_TYPE_AT = layoutField(RECORD_HEADER, 'type').offset;
export const RECORD_LENGTH_AT = layoutField(RECORD_HEADER, 'bodyLength').offset;

export function decodeRecordHeader(bytes: Uint8Array, pos = 0): RecordHeader {
  const dv = dataView(bytes);
  return { type: dv.getUint32(pos + RECORD_TYPE_AT, true), bodyLength: dv.getUint32(pos + RECORD_LENGTH_AT, true) };
}

export function encodeRecordHeader(type: number, bodyLength: number): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER.size);
  const dv = dataView(out);
  dv.setUint32(RECORD_TYPE_AT, type, true);
  dv.setUint32(RECORD_LENGTH_AT, bodyLength, true);
  return out;
}

/**
 * Decode one record body. `body` is exactly body_length bytes; `padding` the
 * 0–7 bytes after it. Throws StreamFormatError for bodies that break an
 * error-level rule of their layout.
 */
export function decodeRecordBody(
  layer: Layer,
  type: number,
  body: Uint8Array,
  padding: Uint8Array,
  at: DecodeContext,
  dialect: Dialect = 'upstream',
): StreamRecord {
  const info = recordTypeTable(layer, dialect).lookup(type);
  const name = info ? info.name : recordTypeName(layer, type, dialect);
  // A fixed-shape literal, not a spread: this runs once per record.
  const loc: DecodeContext = { offset: at.offset, recordIndex: at.recordIndex, layer, recordType: type, recordName: name };
  const decoded = bodyCodecFor(info).decode(body, loc, info);
  return withPadding({ layer, type, name, body: decoded }, padding);
}

/** A decoded record keeps its 0–7 padding bytes only when some are non-zero (so decode → encode gives the same bytes). */
export function withPadding(record: StreamRecord, padding: Uint8Array): StreamRecord {
  if (padding.length > 0 && !isAllZero(padding)) record.padding = padding;
  return record;
}

/**
 * Decode a whole record (header + body + padding) at `pos` of `bytes`.
 * `at.offset` is the absolute offset of `bytes[pos]`.
 */
export function decodeRecord(
  layer: Layer,
  bytes: Uint8Array,
  pos: number,
  at: DecodeContext,
  dialect: Dialect = 'upstream',
): { record: StreamRecord; length: number } {
  if (bytes.length - pos < RECORD_HEADER_SIZE) {
    throw formatError('TRUNCATED', { ...at, layer }, { expected: '8-byte record header', actual: `${bytes.length - pos} bytes` });
  }
  const { type, bodyLength } = decodeRecordHeader(bytes, pos);
  const wire = recordWireLength(bodyLength);
  if (bytes.length - pos < wire) {
    throw formatError(
      'TRUNCATED',
      { ...at, layer, recordType: type, recordName: recordTypeName(layer, type, dialect) },
      {
        relative: bytes.length - pos,
        expected: `${wire} bytes of record`,
        actual: `${bytes.length - pos}`,
      },
    );
  }
  const body = bytes.subarray(pos + RECORD_HEADER_SIZE, pos + RECORD_HEADER_SIZE + bodyLength);
  const padding = bytes.subarray(pos + RECORD_HEADER_SIZE + bodyLength, pos + wire);
  return { record: decodeRecordBody(layer, type, body, padding, { ...at, offset: at.offset + RECORD_HEADER_SIZE }, dialect), length: wire };
}

/** Body length the record will have when encoded. */
export function recordBodyLength(rec: StreamRecord, dialect: Dialect = 'upstream'): number {
  return codecForRecord(rec, dialect).encodedLength(rec.body);
}

function codecForRecord(rec: StreamRecord, dialect: Dialect): AnyBodyCodec {
  const info = recordTypeTable(rec.layer, dialect).lookup(rec.type);
  const codec = bodyCodecFor(info);
  const expectedKind = codec.layout === 'shared-info' || codec.layout === 'hvm-context' ? 'opaque' : codec.layout;
  if (rec.body.kind !== expectedKind && !(rec.body.kind === 'opaque' && !info)) {
    throw new EncodeError(`${rec.layer} record type 0x${rec.type.toString(16)} (${rec.name}) needs a '${expectedKind}' body, got '${rec.body.kind}'`);
  }
  return codec;
}

/**
 * Encode a record as a list of chunks: header, body chunks (views of the value's
 * buffers, not copies) and padding. Ready for writev.
 */
export function encodeRecordChunks(rec: StreamRecord, dialect: Dialect = 'upstream'): Uint8Array[] {
  const codec = codecForRecord(rec, dialect);
  const bodyLength = codec.encodedLength(rec.body);
  const padLength = roundUp8(bodyLength) - bodyLength;
  const chunks = [encodeRecordHeader(rec.type, bodyLength), ...codec.encode(rec.body)];
  if (padLength > 0) {
    if (rec.padding) {
      if (rec.padding.length !== padLength) throw new EncodeError(`${rec.name}: padding must be ${padLength} bytes, got ${rec.padding.length}`);
      chunks.push(rec.padding);
    } else {
      // A fresh buffer per record (≤ 7 bytes): chunks are handed to the caller, and a
      // shared zero buffer written into by one caller would corrupt every later record.
      chunks.push(new Uint8Array(padLength));
    }
  }
  return chunks;
}

/** Encode a record into one new buffer (a copy: use encodeRecordChunks on hot paths). */
export function encodeRecord(rec: StreamRecord, dialect: Dialect = 'upstream'): Uint8Array {
  return concatBytes(encodeRecordChunks(rec, dialect));
}

/** Build a record value from a type name and body (the name is looked up in the table). */
export function makeRecord<B extends RecordBody>(layer: Layer, name: string, body: B, dialect: Dialect = 'upstream'): StreamRecord<B> {
  const info = recordTypeTable(layer, dialect).byName(name);
  if (!info) throw new EncodeError(`no ${layer} record type named ${name} in the ${dialect} dialect`);
  return { layer, type: info.type, name: info.name, body };
}

// ------------------------------------------------------------------ JSON form

export type RecordJsonForm = Static<typeof RecordJson>;

export function recordToJson(rec: StreamRecord, dialect: Dialect = 'upstream'): RecordJsonForm {
  const codec = codecForRecord(rec, dialect);
  const j: RecordJsonForm = { layer: rec.layer, type: rec.type, name: rec.name, body: codec.toJson(rec.body) as RecordJsonForm['body'] };
  const machine = machineJson(rec);
  if (machine) Object.assign(j.body as object, machine);
  if (rec.padding) j.padding = toHex(rec.padding);
  return j;
}

/** JSON form → record. The JSON must already match RecordJson (see json.ts for validation). */
export function recordFromJson(j: RecordJsonForm, dialect: Dialect = 'upstream'): StreamRecord {
  const info = recordTypeTable(j.layer, dialect).lookup(j.type);
  const codec = bodyCodecFor(info);
  const name = info?.name ?? recordTypeName(j.layer, j.type, dialect);
  const body = applyMachineJson(name, j.body as unknown as Record<string, unknown>);
  const rec: StreamRecord = { layer: j.layer, type: j.type, name, body: codec.fromJson(body) };
  if (j.padding !== undefined) rec.padding = fromHex(j.padding);
  return rec;
}
