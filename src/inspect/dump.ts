/** `dump`: every header and record in order, as text, one JSON document, or NDJSON. */
import type { BackChannelKind } from '../reader/back-channel.js';
import { readStream, StreamReader } from '../reader/stream-reader.js';
import type { StreamSource } from '../reader/sources.js';
import type { Problem, StreamEnd } from '../reader/items.js';
import { renderEndText, renderItemText, TEXT_COLUMNS } from './dump-text.js';
import { isCompleteInJson, jsonDocumentHead, jsonDocumentItemPieces, jsonDocumentTail, ndjsonEnd, ndjsonItemPieces } from './dump-json.js';
import type { RecordFilter } from './record-filter.js';
import type { TextSink } from './text-sink.js';
import type { WalkOptions } from './walk-options.js';

export type DumpFormat = 'text' | 'json' | 'ndjson';
export const DUMP_FORMATS: readonly DumpFormat[] = ['text', 'json', 'ndjson'];

export interface DumpOptions extends WalkOptions {
  format?: DumpFormat;
  /** Only these records (headers are left out too when a filter is given). */
  records?: RecordFilter | undefined;
  /** List pfns of PAGE_DATA-like records (text, ndjson). The JSON document always has everything. */
  pages?: boolean | undefined;
  /** The input is a captured headerless back channel (receiver → sender), not a stream. */
  channel?: BackChannelKind | undefined;
  /** Text: every decoded field of HVM save entries and PV vCPU records (their registers are always shown). */
  machine?: boolean | undefined;
}

export interface DumpResult {
  end: StreamEnd;
  problems: readonly Problem[];
  /** Items written. */
  items: number;
  /** Notes about the output itself (e.g. trailing bytes the JSON could not hold completely). */
  notes: string[];
}

export async function dumpStream(source: StreamSource, out: TextSink, options: DumpOptions = {}): Promise<DumpResult> {
  try {
    return await dumpItems(source, out, options);
  } catch (error) {
    // An invalid stream is when dump is run: show every item read before the error, then fail.
    await out.flush().catch(() => undefined);
    throw error;
  }
}

async function dumpItems(source: StreamSource, out: TextSink, options: DumpOptions): Promise<DumpResult> {
  const format = options.format ?? 'text';
  const channel = options.channel;
  const dialect = channel === 'postcopy' ? 'postcopy-rfc' : channel === 'colo' ? 'upstream' : (options.reader?.dialect ?? 'upstream');
  // Nothing here keeps an item's views past the next item: let the reader reuse its buffers.
  // Only the JSON document holds page contents; text and ndjson step over them.
  const reader =
    channel !== undefined
      ? new StreamReader(source, { backChannel: { channel, strict: options.reader?.strict ?? true }, recycleBuffers: true })
      : readStream(source, { pageContents: format === 'json' ? 'read' : 'skip', ...options.reader, recycleBuffers: true });
  const notes: string[] = [];
  let items = 0;
  if (format === 'json') await out.write(jsonDocumentHead(dialect));
  if (format === 'text') await out.write(TEXT_COLUMNS);
  for await (const item of reader) {
    options.onProgress?.(item.offset + item.length);
    if (options.records && (item.kind !== 'record' || !options.records.matches(item.layer, item.record.type, item.record.name))) continue;
    if (format === 'json') {
      if (!isCompleteInJson(item))
        notes.push(`the JSON document holds only the first ${item.kind === 'trailing' ? item.head.length : 0} of the ${item.length} trailing bytes`);
      for (const piece of jsonDocumentItemPieces(item, dialect, items === 0)) await out.write(piece);
    } else if (format === 'ndjson') {
      for (const piece of ndjsonItemPieces(item, dialect, options.pages ?? false)) await out.write(piece);
    } else {
      await out.write(renderItemText(item, { pages: options.pages, machine: options.machine }));
    }
    items++;
  }
  const end = reader.end as StreamEnd;
  const problems = reader.problems;
  if (format === 'json') await out.write(jsonDocumentTail(end, problems));
  else if (format === 'ndjson') await out.write(ndjsonEnd(end, problems));
  else await out.write(renderEndText(end, problems));
  await out.flush();
  return { end, problems, items, notes };
}
