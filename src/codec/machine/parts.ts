/**
 * A record's decoded parts, each with an identity key, its layout table and
 * its value: what `diff` pairs between two streams and compares field by
 * field. One function per kind of record, in a plain list (PART_SOURCES) so
 * other decoders can append theirs; the first that answers for a record wins.
 */
import { defineLayout, type Layout } from '../../format/layout.js';
import type { StreamRecord } from '../records.js';
import { decodeHvmEntries } from './hvm-entries.js';
import { pvVcpuLayout } from './entry-layouts.js';
import { decodeStruct } from './struct.js';

export interface RecordPart {
  /** Identity across streams, e.g. 'HVM_CONTEXT CPU[0]', 'X86_PV_VCPU_BASIC[1]'. */
  readonly key: string;
  readonly layout: Layout;
  readonly value: object;
}

export type PartSource = (rec: StreamRecord) => RecordPart[] | undefined;

const rawLayouts = new Map<string, Layout>();
/** Bytes no table decodes, as a one-field layout (so they still compare). */
function rawLayout(name: string, size: number): Layout {
  const key = `${name}/${size}`;
  let l = rawLayouts.get(key);
  if (!l) {
    l = defineLayout(name, [{ name: 'data', type: 'bytes', size, json: 'base64' }]);
    rawLayouts.set(key, l);
  }
  return l;
}

/** HVM_CONTEXT: one part per save entry (END excluded), keyed by name and instance. */
export function hvmContextParts(rec: StreamRecord): RecordPart[] | undefined {
  if (rec.body.kind !== 'opaque' || rec.name !== 'HVM_CONTEXT') return undefined;
  return decodeHvmEntries(rec.body.data)
    .entries.filter((e) => e.typecode !== 0)
    .map((e) => {
      const key = `HVM_CONTEXT ${e.name}[${e.instance}]`;
      if (e.decoded) return { key, layout: e.decoded.layout, value: e.decoded.value };
      return { key, layout: rawLayout(e.name, e.data.length), value: { data: e.data } };
    });
}

/** X86_PV_VCPU_*: the context, keyed by record and vCPU id. */
export function pvVcpuParts(rec: StreamRecord): RecordPart[] | undefined {
  if (rec.body.kind !== 'vcpu') return undefined;
  const key = `${rec.name}[${rec.body.vcpuId}]`;
  const layout = pvVcpuLayout(rec.name, rec.body.context.length);
  if (!layout) return [{ key, layout: rawLayout(rec.name, rec.body.context.length), value: { data: rec.body.context } }];
  return [{ key, layout, value: decodeStruct(layout, rec.body.context).value }];
}

export const PART_SOURCES: PartSource[] = [hvmContextParts, pvVcpuParts];

/** The record's parts (empty when no source decodes it). */
export function recordParts(rec: StreamRecord): RecordPart[] {
  for (const source of PART_SOURCES) {
    const parts = source(rec);
    if (parts) return parts;
  }
  return [];
}
