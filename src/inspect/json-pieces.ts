/**
 * A record's JSON text in pieces, for the dump forms: a record whose body is
 * a long list (millions of xenstore pairs, MSRs, HVM params, P2M frames…)
 * would be one string of several times the record's size, and millions of
 * objects before that. Its list is written LIST_BATCH entries at a time, each
 * batch through the body codec's own toJson, so the text is exactly what one
 * JSON.stringify would give and memory stays bounded by a batch.
 */
import type { EntryList } from '../codec/bodies/entry-list.js';
import { recordToJson, type StreamRecord } from '../codec/records.js';
import type { Dialect } from '../format/record-types.js';

/** The list field of each list body kind. */
const LIST_FIELDS: Readonly<Record<string, string>> = {
  'emulator-xenstore': 'pairs',
  'msr-policy': 'entries',
  'cpuid-policy': 'leaves',
  'hvm-params': 'params',
  'p2m-frames': 'frames',
  'dirty-pfn-list': 'pfns',
};

export const LIST_BATCH = 4096;

/**
 * `render(record)` is the item's whole JSON text; for a list longer than
 * LIST_BATCH, it is called with the list emptied and the list's text spliced
 * in batch by batch.
 */
export function* recordJsonPieces(rec: StreamRecord, dialect: Dialect, render: (rec: StreamRecord) => string): Generator<string> {
  const field = LIST_FIELDS[rec.body.kind];
  const list = field ? (rec.body as unknown as Record<string, EntryList<unknown>>)[field] : undefined;
  if (!field || !list || list.length <= LIST_BATCH) {
    yield render(rec);
    return;
  }
  const withList = (entries: EntryList<unknown>): StreamRecord => ({ ...rec, body: { ...rec.body, [field]: entries } as StreamRecord['body'] });
  const frame = render(withList([]));
  const hole = `"${field}":[]`;
  const at = frame.indexOf(hole);
  if (at < 0 || frame.indexOf(hole, at + 1) >= 0) {
    yield render(rec); // cannot tell where the list goes: whole
    return;
  }
  yield frame.slice(0, at + hole.length - 1);
  for (let i = 0; i < list.length; i += LIST_BATCH) {
    const batch = (recordToJson(withList(list.slice(i, i + LIST_BATCH)), dialect).body as unknown as Record<string, unknown>)[field];
    const text = JSON.stringify(batch);
    yield (i === 0 ? '' : ',') + text.slice(1, -1);
  }
  yield frame.slice(at + hole.length - 1);
}
