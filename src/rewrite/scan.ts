/**
 * Pass 1 of a rewrite: walk the whole input with the reader (so an invalid
 * input fails before any output exists) and learn what pass 2 needs: the
 * headers, the guest kind, the mode, how the stream ended and, for
 * --flatten, the static records, the state records of the last complete
 * checkpoint and, for every pfn, where its last copy is.
 */
import { PAGE_SIZE, RECORD_HEADER_SIZE, DOMAIN_TYPE_X86_PV } from '../format/constants.js';
import { PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import type { LibxcDomainHeader, XlHeader } from '../codec/headers.js';
import type { StreamRecord } from '../codec/records.js';
import { copyBytes } from '../codec/bytes.js';
import { readStream } from '../reader/stream-reader.js';
import type { ReaderOptions } from '../reader/decoder.js';
import type { StreamSource } from '../reader/sources.js';
import type { Problem, StreamEnd, StreamMode } from '../reader/items.js';
import type { StreamSummary } from '../reader/summary.js';
import type { GuestKind } from '../writer/writer-automaton.js';
import { PfnLastCopyIndex } from './pfn-last-copy.js';
import { detachRecord, isStateRecord, isStaticRecord } from './record-writer.js';
import { keptWrapperPart } from './wrapper-parts.js';

export interface TrailingBytes {
  length: number;
  isGoMessage: boolean;
}

/** What a full walk of the input learned about it: both rewrite passes report this. */
export interface InputOutcome {
  guest: GuestKind;
  mode: StreamMode;
  end: StreamEnd;
  summary: StreamSummary;
  problems: readonly Problem[];
  trailing?: TrailingBytes | undefined;
}

export interface ScanResult extends InputOutcome {
  /** libvirt's header and XML, to write again before the stream (copies). */
  wrapperParts: Uint8Array[];
  xlHeader?: XlHeader | undefined;
  domainHeader: LibxcDomainHeader;
  imageVersion: number;
  /** flatten: static data records, in order (copies). */
  staticRecords: StreamRecord[];
  /** flatten: the state records of the last complete checkpoint (the only one of a plain stream), in order (copies). */
  stateRecords: StreamRecord[];
  /** flatten: every pfn's last copy. */
  index?: PfnLastCopyIndex | undefined;
  /** flatten: pfn updates of an incomplete last checkpoint, undone. */
  rolledBack: number;
  /** Checkpoint the state records belong to (checkpointed input). */
  stateCheckpoint?: number | undefined;
}

/** Copy of a decoded xl header that does not pin the reader's buffers. */
function detachXl(h: XlHeader): XlHeader {
  return { ...h, ...(h.config ? { config: copyBytes(h.config) } : {}), optionalTail: copyBytes(h.optionalTail) };
}

// Long (~100 lines) on purpose: one pass over the input, one case per item kind, all filling
// the same ScanResult; splitting would hand that state to every piece.
export async function scanStream(
  source: StreamSource,
  options: { reader?: ReaderOptions | undefined; flatten: boolean; onProgress?: ((n: number) => void) | undefined },
): Promise<ScanResult> {
  // This pass needs the pages' positions, not their contents (the second pass copies them).
  const reader = readStream(source, { pageContents: 'skip', ...options.reader });
  let xlHeader: XlHeader | undefined;
  const wrapperParts: Uint8Array[] = [];
  let domainHeader: LibxcDomainHeader | undefined;
  let imageVersion = 3;
  let hasEmulator = false;
  let trailing: TrailingBytes | undefined;
  const staticRecords: StreamRecord[] = [];
  const index = options.flatten ? new PfnLastCopyIndex() : undefined;
  // State records per checkpoint: a record of a later checkpoint means the earlier one completed.
  let pending: { cp: number; records: StreamRecord[] } | undefined;
  let committed: { cp: number; records: StreamRecord[] } | undefined;
  let openPageCp = 1;

  for await (const item of reader) {
    options.onProgress?.(item.offset + item.length);
    switch (item.kind) {
      case 'xl-header':
        xlHeader = detachXl(item.header);
        continue;
      case 'libxc-image-header':
        imageVersion = item.header.version;
        continue;
      case 'libxc-domain-header':
        domainHeader = { ...item.header };
        continue;
      case 'trailing':
        trailing = { length: item.length, isGoMessage: item.isGoMessage };
        continue;
      case 'libxl-header':
        continue;
      case 'container-part':
        wrapperParts.push(keptWrapperPart(item));
        continue;
      case 'record':
        break;
    }
    const record = item.record;
    if (record.name === 'EMULATOR_CONTEXT' || record.name === 'EMULATOR_XENSTORE_DATA') hasEmulator = true;
    if (!options.flatten) continue;
    // Checkpoint of this record: records before the first CHECKPOINT carry none (they are checkpoint 1).
    const cp = item.checkpoint ?? 1;
    const body = record.body;
    if (item.layer === 'libxc' && body.kind === 'page-data' && (record.name === 'PAGE_DATA' || record.name === 'POSTCOPY_PAGE_DATA')) {
      const idx = index as PfnLastCopyIndex;
      if (cp > openPageCp) {
        idx.commit();
        openPageCp = cp;
      }
      // Records of checkpoint ≥ 2 may belong to an incomplete last checkpoint: log them for rollback.
      // (If checkpoint 1 is incomplete the reader throws: there is nothing to fail over to.)
      const undoable = item.checkpoint !== undefined && item.checkpoint >= 2;
      const count = body.pfns.length;
      let page = item.offset + RECORD_HEADER_SIZE + 8 + 8 * count;
      for (let i = 0; i < count; i++) {
        const t = body.types[i];
        idx.set(body.pfns[i], t, PAGE_TYPE_HAS_DATA[t] ? page : -1, undoable);
        if (PAGE_TYPE_HAS_DATA[t]) page += PAGE_SIZE;
      }
    } else if (isStaticRecord(record)) {
      // P2M frames may come again (not upstream, but harmless): the last copy wins.
      const at = staticRecords.findIndex((r) => r.name === record.name);
      if (at >= 0 && record.name === 'X86_PV_P2M_FRAMES') staticRecords[at] = detachRecord(record);
      else staticRecords.push(detachRecord(record));
    } else if (isStateRecord(record)) {
      if (!pending || cp !== pending.cp) {
        if (pending) committed = pending;
        pending = { cp, records: [] };
      } else if (record.name === 'X86_TSC_INFO') {
        // A second end-of-checkpoint block in the same checkpoint (not upstream): the later one wins.
        pending.records = [];
      }
      pending.records.push(detachRecord(record));
    }
  }

  const end = reader.end as StreamEnd;
  if (!domainHeader) throw new Error('internal: the reader finished without a libxc domain header');
  const summary = reader.summary();
  let rolledBack = 0;
  let chosen = pending;
  if (end.status === 'failover') {
    const complete = end.completeCheckpoints ?? 0;
    if (index && openPageCp > complete) rolledBack = index.rollback();
    if (pending && pending.cp > complete) chosen = committed;
  }
  return {
    wrapperParts,
    xlHeader,
    domainHeader,
    imageVersion,
    guest: domainHeader.domainType === DOMAIN_TYPE_X86_PV ? 'pv' : hasEmulator ? 'hvm' : 'pvh',
    mode: summary.mode ?? 'plain',
    end,
    summary,
    problems: reader.problems,
    trailing,
    staticRecords,
    stateRecords: chosen?.records ?? [],
    index,
    rolledBack,
    ...(end.status === 'failover' && chosen ? { stateCheckpoint: chosen.cp } : {}),
  };
}
