/**
 * Decoded fields of one record, in words: a one-line summary plus optional
 * detail lines. Long arrays are elided with counts; `pages` lists every pfn
 * (as runs of consecutive pfns of one type, so the list stays exact but short).
 */
import { CHECKPOINT_CONTROL_IDS, EMULATOR_IDS } from '../format/constants.js';
import { HVM_PARAM_NAMES, HVM_SAVE_TYPECODES } from '../format/record-types.js';
import { PAGE_TYPES } from '../format/page-types.js';
import type { StreamRecord } from '../codec/records.js';
import { dataPageCount, type PfnEntries } from '../codec/bodies/page-data.js';
import { hvmContextEntries } from '../codec/bodies/x86-common.js';
import { TSC_MODES } from '../format/layouts/x86-tsc-info.js';
import { asciiPreview, elided, grouped, hex } from './text-format.js';
import { machineLines } from './machine-text.js';

export interface FieldOptions {
  /** List every pfn of PAGE_DATA-like records. */
  pages?: boolean | undefined;
  /** Items shown before eliding a long array. */
  keep?: number;
  /** Every decoded field of HVM save entries and PV vCPU records (their registers are always shown). */
  machine?: boolean | undefined;
}

export interface RecordFields {
  summary: string;
  details: string[];
}

/** Runs of consecutive pfns with the same type: exact, and short for real streams. */
export function pfnRuns(e: Pick<PfnEntries, 'pfns' | 'types'>): Array<{ first: number; last: number; type: number }> {
  const runs: Array<{ first: number; last: number; type: number }> = [];
  for (let i = 0; i < e.pfns.length; i++) {
    const r = runs[runs.length - 1];
    if (r && e.pfns[i] === r.last + 1 && e.types[i] === r.type) r.last = e.pfns[i];
    else runs.push({ first: e.pfns[i], last: e.pfns[i], type: e.types[i] });
  }
  return runs;
}

function typeCounts(types: readonly number[]): string {
  const counts = new Array<number>(16).fill(0);
  for (const t of types) counts[t]++;
  return counts
    .map((n, t) => (n ? `${PAGE_TYPES[t].name}×${n}` : ''))
    .filter(Boolean)
    .join(' ');
}

function pfnEntryFields(e: PfnEntries, what: string, opts: FieldOptions): RecordFields {
  let min = Infinity;
  let max = -Infinity;
  for (const p of e.pfns) {
    if (p < min) min = p;
    if (p > max) max = p;
  }
  const summary = `count ${e.count}, ${what}, pfns ${hex(min)}–${hex(max)}, ${typeCounts(e.types)}${e.reserved ? `, reserved ${hex(e.reserved)}` : ''}`;
  if (!opts.pages) return { summary, details: [] };
  const runs = pfnRuns(e).map((r) =>
    r.first === r.last ? `${hex(r.first)} ${PAGE_TYPES[r.type].name}` : `${hex(r.first)}–${hex(r.last)} ${PAGE_TYPES[r.type].name}`,
  );
  const details: string[] = [];
  for (let i = 0; i < runs.length; i += 4) details.push(`pfns: ${runs.slice(i, i + 4).join(', ')}`);
  return { summary, details };
}

export function recordFields(rec: StreamRecord, opts: FieldOptions = {}): RecordFields {
  const keep = opts.keep ?? 8;
  const body = rec.body;
  switch (body.kind) {
    case 'empty':
      return { summary: body.extra ? `unexpected body of ${body.extra.length} bytes` : '', details: [] };
    case 'page-data':
      return pfnEntryFields(body, `${dataPageCount(body)} pages of data`, opts);
    case 'pfn-list':
      return pfnEntryFields(body, 'no page data', opts);
    case 'pv-info':
      return {
        summary: `guest width ${body.guestWidth} (${body.guestWidth * 8}-bit), pt levels ${body.ptLevels}${body.extra ? `, ${body.extra.length} extra bytes` : ''}`,
        details: [],
      };
    case 'p2m-frames':
      return {
        summary: `pfns ${hex(body.startPfn)}–${hex(body.endPfn)}, ${body.frames.length} frames`,
        details: [`frames: ${elided(body.frames, keep, (f) => hex(f))}`],
      };
    case 'vcpu':
      return {
        summary: `vcpu ${body.vcpuId}, context ${grouped(body.context.length)} bytes${body.reserved ? `, reserved ${hex(body.reserved)}` : ''}`,
        details: machineLines(rec, opts.machine === true),
      };
    case 'tsc-info':
      return {
        summary: `mode ${body.mode} (${TSC_MODES[body.mode] ?? 'unknown'}), ${grouped(body.khz)} kHz, nsec ${body.nsec}, incarnation ${body.incarnation}`,
        details: [],
      };
    case 'hvm-params':
      return {
        summary: `${body.params.length} params`,
        details: body.params
          .slice(0, keep * 4)
          .map((p) => `${HVM_PARAM_NAMES[Number(p.index)] ?? 'param'}(${p.index}) = ${hex(p.value)}`)
          .concat(body.params.length > keep * 4 ? [`… (+${body.params.length - keep * 4} more)`] : []),
      };
    case 'cpuid-policy':
      return {
        summary: `${body.leaves.length} leaves`,
        details: body.leaves
          .slice(0, keep)
          .map(
            (l) =>
              `leaf ${hex(l.leaf, 8)}/${l.subleaf === 0xffffffff ? '-' : hex(l.subleaf)}: a=${hex(l.a, 8)} b=${hex(l.b, 8)} c=${hex(l.c, 8)} d=${hex(l.d, 8)}`,
          )
          .concat(body.leaves.length > keep ? [`… (+${body.leaves.length - keep} more leaves)`] : []),
      };
    case 'msr-policy':
      return {
        summary: `${body.entries.length} MSRs`,
        details: body.entries
          .slice(0, keep)
          .map((e) => `msr ${hex(e.idx, 8)} = ${hex(e.val)}${e.flags ? ` flags ${hex(e.flags)}` : ''}`)
          .concat(body.entries.length > keep ? [`… (+${body.entries.length - keep} more)`] : []),
      };
    case 'dirty-pfn-list':
      return { summary: `${body.pfns.length} pfns`, details: body.pfns.length ? [`pfns: ${elided(body.pfns, keep, (p) => hex(p))}`] : [] };
    case 'emulator-xenstore':
      return {
        summary: `emulator ${body.emulatorId} (${EMULATOR_IDS[body.emulatorId] ?? 'reserved'}), index ${body.index}, ${body.pairs.length} keys`,
        details: body.pairs
          .slice(0, keep * 4)
          .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
          .concat(body.pairs.length > keep * 4 ? [`… (+${body.pairs.length - keep * 4} more keys)`] : []),
      };
    case 'emulator-context':
      return {
        summary: `emulator ${body.emulatorId} (${EMULATOR_IDS[body.emulatorId] ?? 'reserved'}), index ${body.index}, blob ${grouped(body.blob.length)} bytes starting "${asciiPreview(body.blob, 4)}"`,
        details: [],
      };
    case 'checkpoint-state':
      return {
        summary: `control_id ${body.controlId} (${CHECKPOINT_CONTROL_IDS[body.controlId] ?? 'unknown'})${body.extra ? `, ${body.extra.length} extra bytes` : ''}`,
        details: [],
      };
    case 'opaque': {
      if (rec.name === 'HVM_CONTEXT') {
        const { entries, truncatedAt } = hvmContextEntries(body.data);
        const names = entries.map((e) => `${HVM_SAVE_TYPECODES[e.typecode] ?? `type${e.typecode}`}${e.typecode > 1 ? `[${e.instance}]` : ''}`);
        return {
          summary: `${grouped(body.data.length)} bytes, ${entries.length} save entries${truncatedAt !== undefined ? `, malformed at blob offset ${truncatedAt}` : ''}`,
          details: [...(names.length ? [`entries: ${elided(names, keep * 4, String, ', ')}`] : []), ...machineLines(rec, opts.machine === true)],
        };
      }
      return { summary: `${grouped(body.data.length)} bytes`, details: [] };
    }
  }
}
