/**
 * The decoded pieces of a record that `diff` compares field by field: each a
 * key that identifies it across two saves (`CPUID 0x7.0`, `MSR 0x10a`,
 * `QEMU fdc[0]`, an HVM save entry, a vCPU), the layout it is read with and
 * its value. One function per record kind, tried in turn: a new kind adds a
 * function to PART_SOURCES.
 */
import type { Layout } from '../../format/layout.js';
import { defineLayout } from '../../format/layout.js';
import { MSR_NAMES } from '../../format/msr-names.js';
import { BODY_CODECS, type StreamRecord } from '../records.js';
import { cpuidLeafLayout, cpuidLeafView, leafKey, msrEntryLayout } from './cpu-policy.js';
import { parseQemuSavevm } from './qemu-savevm.js';

export interface RecordPart {
  key: string;
  layout: Layout;
  value: object;
}

type PartSource = (record: StreamRecord) => RecordPart[] | undefined;

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

/** A body that is one layout table (X86_TSC_INFO, …): one part, named by the record. */
function fixedBodyParts(record: StreamRecord): RecordPart[] | undefined {
  const table = (BODY_CODECS as Readonly<Record<string, { table?: Layout }>>)[record.body.kind]?.table;
  return table ? [{ key: record.name, layout: table, value: record.body }] : undefined;
}

const PART_SOURCES: readonly PartSource[] = [cpuidParts, msrParts, qemuParts, fixedBodyParts];

/** The parts of a record, or an empty list for a record whose body is compared as a whole. */
export function recordParts(record: StreamRecord): Array<{ key: string; layout: Layout; value: object }> {
  for (const source of PART_SOURCES) {
    const parts = source(record);
    if (parts) return parts;
  }
  return [];
}
