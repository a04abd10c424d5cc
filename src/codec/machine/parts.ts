/**
 * A record's decoded parts, each with an identity key, its layout table and
 * its value: what `diff` pairs between two streams and compares field by
 * field (`CPUID 0x7.0`, `MSR 0x10a`, `QEMU fdc[0]`, `HVM_CONTEXT CPU[0]`,
 * `X86_PV_VCPU_BASIC[1]`). One function per kind of record, in a plain list
 * (PART_SOURCES): the first that answers for a record wins; a new kind adds a
 * function there.
 */
import { defineLayout, type Layout } from '../../format/layout.js';
import { MSR_NAMES } from '../../format/msr-names.js';
import { BODY_CODECS, type StreamRecord } from '../records.js';
import { cpuidLeafLayout, cpuidLeafView, leafKey, msrEntryLayout } from './cpu-policy.js';
import { parseQemuSavevm } from './qemu-savevm.js';
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

function cpuidParts(record: StreamRecord): RecordPart[] | undefined {
  if (record.body.kind !== 'cpuid-policy') return undefined;
  return record.body.leaves.map((l) => ({ key: `CPUID ${leafKey(l.leaf, l.subleaf)}`, layout: cpuidLeafLayout(l.leaf, l.subleaf), value: cpuidLeafView(l) }));
}

function msrParts(record: StreamRecord): RecordPart[] | undefined {
  if (record.body.kind !== 'msr-policy') return undefined;
  return record.body.entries.map((e) => ({
    key: `MSR 0x${e.idx.toString(16)}${MSR_NAMES[e.idx] ? ` ${MSR_NAMES[e.idx]}` : ''}`,
    layout: msrEntryLayout(e.idx),
    value: e,
  }));
}

/** A QEMU section as a layout of its version and its data (QEMU's sections carry no field table we could read). */
function qemuParts(record: StreamRecord): RecordPart[] | undefined {
  if (record.body.kind !== 'emulator-context') return undefined;
  const blob = record.body.blob;
  const q = parseQemuSavevm(blob);
  if (!q) return undefined;
  return q.sections.map((s) => ({
    key: `QEMU ${s.name}[${s.instance}]${s.type === 'FULL' ? '' : ` ${s.type} #${s.id}`}`,
    layout: defineLayout(`QEMU section ${s.name}`, [
      { name: 'version', type: 'u32', show: 'dec' },
      { name: 'data', type: 'bytes', size: s.size },
    ]),
    value: { version: s.version, data: blob.subarray(s.dataOffset, s.dataOffset + s.size) },
  }));
}

/** A body that is one layout table and nothing else (X86_TSC_INFO, …): one part, named by the record. */
function fixedBodyParts(record: StreamRecord): RecordPart[] | undefined {
  const codec = BODY_CODECS[record.body.kind];
  const table = codec.table;
  // A table that only heads a variable body (an emulator sub-header) is not the whole body: compared as a whole.
  if (!table || codec.encodedLength(record.body) !== table.size) return undefined;
  return [{ key: record.name, layout: table, value: record.body }];
}

export const PART_SOURCES: readonly PartSource[] = Object.freeze([hvmContextParts, pvVcpuParts, cpuidParts, msrParts, qemuParts, fixedBodyParts]);

/** The record's parts (empty when no source decodes it: its body is compared as a whole). */
export function recordParts(rec: StreamRecord): RecordPart[] {
  for (const source of PART_SOURCES) {
    const parts = source(rec);
    if (parts) return parts;
  }
  return [];
}
