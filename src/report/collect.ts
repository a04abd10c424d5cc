/**
 * One streaming pass over a stream that gathers everything the report shows,
 * in bounded memory (see ReportLimits): headers and the xl config, the
 * reader's summary, the verify verdict (an invalid stream keeps what was read
 * up to the error), the timeline, passes, the pfn map and the record table.
 * Only StreamFormatError means "invalid stream"; anything else (I/O) propagates.
 */
import { xlConfigText } from '../codec/headers.js';
import { StreamFormatError } from '../codec/errors.js';
import { XL_MANDATORY_FLAG_JSON } from '../format/constants.js';
import { renderVerifyText, type VerifyResult } from '../inspect/verify.js';
import type { Problem, StreamEnd, StreamItem } from '../reader/items.js';
import type { StreamSource } from '../reader/sources.js';
import { readStream } from '../reader/stream-reader.js';
import type { StreamSummary } from '../reader/summary.js';
import { reportLimits, type ReportLimits, type ReportOptions } from './options.js';
import { PassTracker, type PassStat } from './passes.js';
import { PfnHeat, type PfnMap } from './pfn-heat.js';
import { RecordTableBuilder, type RecordTable } from './record-table.js';
import { TimelineBuilder, type Timeline } from './timeline.js';
import { MachineCollector, type MachineSection } from './machine.js';

export interface HeaderInfo {
  kind: StreamItem['kind'];
  offset: number;
  length: number;
  /** Decoded fields (numbers and strings; the config is shown on its own). */
  fields: Record<string, string | number>;
}

export interface XlConfig {
  text: string;
  isJson: boolean;
  /** Characters cut (beyond the limit). */
  truncated: number;
}

export interface ReportError {
  ruleId: string;
  ruleText: string;
  offset: number;
  recordIndex?: number;
  layer?: string;
  recordName?: string;
  expected?: string;
  actual?: string;
  message: string;
}

export interface ReportVerdict {
  status: 'valid' | 'invalid';
  end?: StreamEnd;
  error?: ReportError;
  /** Warnings and notes (at most the limit; `problemsOmitted` more). */
  problems: Problem[];
  problemsOmitted: number;
  goMessage: boolean;
  /** The verify command's verdict text. */
  text: string;
}

export interface ReportData {
  input: string;
  reader: { dialect: string; mode: string; strict: boolean };
  headers: HeaderInfo[];
  config?: XlConfig;
  summary: StreamSummary;
  verdict: ReportVerdict;
  timeline: Timeline;
  passes: PassStat[];
  /** Passes in the stream (more than `passes.length` past the limit). */
  passesTotal: number;
  pfnMap: PfnMap;
  table: RecordTable;
  /** vCPU registers and decoded device state. */
  machine: MachineSection;
  limits: ReportLimits;
}

function headerFields(item: StreamItem): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (item.kind === 'record' || item.kind === 'trailing') return out;
  if (item.kind === 'container-part') return { part: item.part, ...item.fields };
  for (const [k, v] of Object.entries(item.header)) {
    if (typeof v === 'number') out[k] = v;
    else if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'bigint') out[k] = `0x${v.toString(16)}`;
    else if (v instanceof Uint8Array) out[k] = `${v.length} bytes`;
  }
  return out;
}

/** Walk `source` once and gather the report's data. */
// Long (~80 lines): one pass over the stream feeding every chart's collector in item order.
export async function collectReport(source: StreamSource, options: ReportOptions = {}): Promise<ReportData> {
  const limits = reportLimits(options);
  const readerOptions = options.reader ?? {};
  // The report shows pfns, passes and the first bytes of a few records, never page contents: step over them.
  const reader = readStream(source, { pageContents: 'skip', ...readerOptions });
  const headers: HeaderInfo[] = [];
  let config: XlConfig | undefined;
  const timeline = new TimelineBuilder(limits.timelineSegments, limits.markers);
  const passes = new PassTracker(limits.passes);
  const heat = new PfnHeat(limits.pfnCells);
  const table = new RecordTableBuilder(limits.headRows, limits.tailRows, limits.hexBytes, limits.jsonChars);
  const machine = new MachineCollector();
  let goMessage = false;
  let error: StreamFormatError | undefined;

  try {
    for await (const item of reader) {
      options.onProgress?.(item.offset + item.length);
      if (item.kind === 'record') {
        const body = item.record.body;
        let pass: number | undefined;
        if (body.kind === 'page-data' && item.layer === 'libxc') {
          pass = passes.onPages(body, item.checkpoint, item.record.name === 'POSTCOPY_PAGE_DATA');
          heat.add(body.pfns, body.types);
        }
        timeline.onItem(item, pass);
        table.onItem(item, pass);
        machine.onRecord(item.record);
      } else if (item.kind === 'trailing') {
        timeline.onItem(item);
        table.onItem(item);
        goMessage = item.isGoMessage;
      } else {
        timeline.onItem(item);
        table.onItem(item);
        headers.push({ kind: item.kind, offset: item.offset, length: item.length, fields: headerFields(item) });
        if (item.kind === 'xl-header') {
          const text = xlConfigText(item.header);
          if (text !== undefined && text.length > 0) {
            config = {
              text: text.length > limits.configChars ? text.slice(0, limits.configChars) : text,
              isJson: (item.header.mandatoryFlags & XL_MANDATORY_FLAG_JSON) !== 0,
              truncated: Math.max(0, text.length - limits.configChars),
            };
          }
        }
      }
    }
  } catch (e) {
    if (!(e instanceof StreamFormatError)) throw e;
    error = e;
    timeline.onError(e.offset, e.ruleId);
  }

  const summary = reader.summary();
  const verify: VerifyResult = error
    ? { status: 'invalid', error, problems: reader.problems, summary, goMessage }
    : { status: 'valid', end: reader.end, problems: reader.problems, summary, goMessage };
  const allProblems = reader.problems;
  const verdict: ReportVerdict = {
    status: verify.status,
    ...(verify.end ? { end: verify.end } : {}),
    ...(error ? { error: errorInfo(error) } : {}),
    problems: allProblems.slice(0, limits.problems),
    problemsOmitted: Math.max(0, allProblems.length - limits.problems),
    goMessage,
    text: renderVerifyText(options.inputName ?? 'input', verify),
  };
  const p = passes.build();
  return {
    input: options.inputName ?? (typeof source === 'string' ? source : 'input'),
    reader: { dialect: readerOptions.dialect ?? 'upstream', mode: readerOptions.mode ?? 'auto', strict: readerOptions.strict ?? true },
    headers,
    ...(config ? { config } : {}),
    summary,
    verdict,
    timeline: timeline.build(),
    passes: p.passes,
    passesTotal: p.total,
    pfnMap: heat.build(),
    table: table.build(),
    machine: machine.build(),
    limits,
  };
}

function errorInfo(e: StreamFormatError): ReportError {
  return {
    ruleId: e.ruleId,
    ruleText: e.rule.text,
    offset: e.offset,
    ...(e.recordIndex !== undefined ? { recordIndex: e.recordIndex } : {}),
    ...(e.layer !== undefined ? { layer: e.layer } : {}),
    ...(e.recordName !== undefined ? { recordName: e.recordName } : {}),
    ...(e.expected !== undefined ? { expected: e.expected } : {}),
    ...(e.actual !== undefined ? { actual: e.actual } : {}),
    message: e.message,
  };
}
