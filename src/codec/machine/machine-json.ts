/**
 * The decoded machine state in a record's JSON form, next to its raw bytes:
 * HVM_CONTEXT gets `entries` (each save entry's descriptor and, when a table
 * decodes it, `layout` and `fields`); an X86_PV_VCPU_* record gets `layout`
 * and `fields` for its context.
 *
 * On encode the raw bytes (`data` / `context`) are the base and every
 * `fields` present is encoded over its own bytes: an unedited document gives
 * the same bytes (the fields hold every byte, padding included), an edited
 * field changes exactly its bytes. To edit raw bytes instead, delete the
 * `fields` (or `entries`) covering them.
 */
import { fromBase64, toBase64, dataView } from '../bytes.js';
import { EncodeError } from '../errors.js';
import { layoutCodec } from '../layout-codec.js';
import type { StreamRecord } from '../records.js';
import { HVM_SAVE_DESCRIPTOR_SIZE } from '../../format/hvm-save.js';
import type { Layout } from '../../format/layout.js';
import { hvmEntryLayout, pvVcpuLayout } from './entry-layouts.js';
import { decodeHvmEntries } from './hvm-entries.js';
import { decodeStruct, encodeStruct } from './struct.js';

export interface HvmEntryJsonForm {
  typecode: number;
  instance: number;
  name: string;
  /** Blob offset of the descriptor. */
  offset: number;
  length: number;
  layout?: string;
  fields?: Record<string, unknown>;
}

const toJson = (layout: Layout, value: object) => layoutCodec(layout).toJson(value as never) as Record<string, unknown>;

/** The members a record's body JSON gains, or undefined when it carries no decoded machine state. */
export function machineJson(rec: StreamRecord): Record<string, unknown> | undefined {
  const body = rec.body;
  if (body.kind === 'opaque' && rec.name === 'HVM_CONTEXT') {
    const { entries } = decodeHvmEntries(body.data);
    return {
      entries: entries.map((e): HvmEntryJsonForm => {
        const j: HvmEntryJsonForm = { typecode: e.typecode, instance: e.instance, name: e.name, offset: e.offset, length: e.data.length };
        if (e.decoded) {
          j.layout = e.decoded.layout.name;
          j.fields = toJson(e.decoded.layout, e.decoded.value);
        }
        return j;
      }),
    };
  }
  if (body.kind === 'vcpu') {
    const layout = pvVcpuLayout(rec.name, body.context.length);
    if (!layout) return undefined;
    return { layout: layout.name, fields: toJson(layout, decodeStruct(layout, body.context).value) };
  }
  return undefined;
}

/** `fields` encoded with `layout` into `length` bytes (the JSON's layout name must be the one its bytes have). */
function fieldsBytes(layout: Layout | undefined, named: unknown, fields: Record<string, unknown>, length: number, path: string): Uint8Array {
  if (!layout) throw new EncodeError(`${path}: no layout decodes these ${length} bytes; delete "fields" to keep the raw bytes`);
  if (named !== undefined && named !== layout.name) throw new EncodeError(`${path}/layout: these bytes are ${layout.name}, not ${String(named)}`);
  try {
    return encodeStruct({ layout, value: layoutCodec(layout).fromJson(fields as never), length });
  } catch (e) {
    throw new EncodeError(`${path}/fields: ${(e as Error).message}`);
  }
}

function applyHvmEntries(body: Record<string, unknown>): Record<string, unknown> {
  const { entries, ...rest } = body;
  const blob = new Uint8Array(fromBase64(String(body.data)));
  const dv = dataView(blob);
  (entries as HvmEntryJsonForm[]).forEach((e, i) => {
    if (e.fields === undefined) return;
    const path = `body/entries/${i}`;
    if (e.offset + HVM_SAVE_DESCRIPTOR_SIZE + e.length > blob.length || dv.getUint32(e.offset + 4, true) !== e.length)
      throw new EncodeError(`${path}: no ${e.length}-byte entry at blob offset ${e.offset} of data`);
    dv.setUint16(e.offset, e.typecode, true);
    dv.setUint16(e.offset + 2, e.instance, true);
    blob.set(fieldsBytes(hvmEntryLayout(e.typecode, e.length), e.layout, e.fields, e.length, path), e.offset + HVM_SAVE_DESCRIPTOR_SIZE);
  });
  return { ...rest, data: toBase64(blob) };
}

/**
 * A record's body JSON with its decoded members folded into its raw bytes
 * (and removed), ready for the body codec. Records without them pass through.
 */
export function applyMachineJson(recordName: string, body: Record<string, unknown>): Record<string, unknown> {
  if (body.kind === 'opaque' && body.entries !== undefined) {
    if (recordName !== 'HVM_CONTEXT') throw new EncodeError(`body/entries: only an HVM_CONTEXT body has save entries, not ${recordName}`);
    return applyHvmEntries(body);
  }
  if (body.kind === 'vcpu' && (body.fields !== undefined || body.layout !== undefined)) {
    const { fields, layout, ...rest } = body;
    if (fields === undefined) return rest;
    const context = fromBase64(String(body.context));
    const bytes = fieldsBytes(pvVcpuLayout(recordName, context.length), layout, fields as Record<string, unknown>, context.length, 'body');
    return { ...rest, context: toBase64(bytes) };
  }
  return body;
}
