/**
 * Decoded fields of one record, in words: a one-line summary plus optional
 * detail lines. Long arrays are elided with counts; `pages` lists every pfn
 * (as runs of consecutive pfns of one type, so the list stays exact but short).
 */
import { EMULATOR_IDS } from '../format/constants.js';
import { HVM_PARAM_NAMES, HVM_SAVE_TYPECODES } from '../format/record-types.js';
import { PAGE_TYPES } from '../format/page-types.js';
import type { StreamRecord } from '../codec/records.js';
import { dataPageCount, type PfnEntries } from '../codec/bodies/page-data.js';
import { hvmContextEntries } from '../codec/bodies/x86-common.js';
import { X86_TSC_INFO } from '../format/layouts/x86-tsc-info.js';
import { CHECKPOINT_STATE } from '../format/layouts/libxl-records.js';
import { layoutSummary } from './layout-text.js';
import { elided, grouped, hex } from './text-format.js';
import { cpuidPolicyText, msrPolicyText } from './policy-text.js';
import { emulatorContextText } from './qemu-text.js';
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

/** Opaque bodies: HVM_CONTEXT's save entries by name, any other blob by its size. */
function opaqueFields(name: string, data: Uint8Array, keep: number): RecordFields {
  if (name !== 'HVM_CONTEXT') return { summary: `${grouped(data.length)} bytes`, details: [] };
  const { entries, truncatedAt } = hvmContextEntries(data);
  const names = entries.map((e) => `${HVM_SAVE_TYPECODES[e.typecode] ?? `type${e.typecode}`}${e.typecode > 1 ? `[${e.instance}]` : ''}`);
  return {
    summary: `${grouped(data.length)} bytes, ${entries.length} save entries${truncatedAt !== undefined ? `, malformed at blob offset ${truncatedAt}` : ''}`,
    details: names.length ? [`entries: ${elided(names, keep * 4, String, ', ')}`] : [],
  };
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
      return { summary: layoutSummary(X86_TSC_INFO, body), details: [] };
    case 'hvm-params':
      return {
        summary: `${body.params.length} params`,
        details: body.params
          .slice(0, keep * 4)
          .map((p) => `${HVM_PARAM_NAMES[Number(p.index)] ?? 'param'}(${p.index}) = ${hex(p.value)}`)
          .concat(body.params.length > keep * 4 ? [`… (+${body.params.length - keep * 4} more)`] : []),
      };
    case 'cpuid-policy':
      return cpuidPolicyText(body, keep);
    case 'msr-policy':
      return msrPolicyText(body, keep);
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
      return emulatorContextText(body, keep);
    case 'checkpoint-state':
      return { summary: `${layoutSummary(CHECKPOINT_STATE, body)}${body.extra ? `, ${body.extra.length} extra bytes` : ''}`, details: [] };
    case 'opaque': {
      const fields = opaqueFields(rec.name, body.data, keep);
      return { summary: fields.summary, details: [...fields.details, ...machineLines(rec, opts.machine === true)] };
    }
  }
}
