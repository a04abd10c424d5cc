/**
 * The streaming rewrite (no --flatten): every item of the input goes to the
 * writer in input order, PAGE_DATA re-batched when asked. With a scan before
 * it, it knows the guest kind and the mode, and stops at the last complete
 * checkpoint of a checkpointed stream that ends inside a checkpoint. In a
 * single pass over a pipe it guesses them from the headers and fails (no
 * output) if the guess was wrong.
 */
import { DOMAIN_TYPE_X86_PV } from '../format/constants.js';
import { xlConfigText, type XlHeader } from '../codec/headers.js';
import { readStream } from '../reader/stream-reader.js';
import type { ReaderOptions } from '../reader/decoder.js';
import type { StreamSource } from '../reader/sources.js';
import type { StreamEnd } from '../reader/items.js';
import { StreamWriter } from '../writer/stream-writer.js';
import type { StreamSink } from '../writer/sink.js';
import type { GuestKind, WriterMode } from '../writer/writer-automaton.js';
import { InspectArgumentError } from '../inspect/argument-error.js';
import { PageBatcher } from './page-batcher.js';
import { writeRecord } from './record-writer.js';
import type { InputOutcome, ScanResult, TrailingBytes } from './scan.js';
import { keptWrapperPart } from './wrapper-parts.js';

export interface WriteThroughResult extends InputOutcome {
  writer: StreamWriter;
  pageEntriesOut: number;
  /** Records of an incomplete last checkpoint left out. */
  skippedRecords: number;
}

/** The guest kind a single pass has to guess for an HVM-type stream: the xl config's c_info.type, else hvm. */
function guessHvmKind(xl: XlHeader | undefined): GuestKind {
  const text = xl ? xlConfigText(xl) : undefined;
  if (text) {
    try {
      const type = (JSON.parse(text) as { c_info?: { type?: string } }).c_info?.type;
      if (type === 'pvh') return 'pvh';
    } catch {
      // not JSON: keep the default
    }
  }
  return 'hvm';
}

// Long (~110 lines) on purpose: one pass over the input whose per-item cases share the pass's
// state (writer, batcher, current checkpoint); the per-record work is in record-writer/page-batcher.
export async function writeThrough(
  source: StreamSource,
  sink: () => Promise<StreamSink>,
  options: { reader?: ReaderOptions | undefined; batch?: number | undefined; scan?: ScanResult | undefined; onProgress?: ((n: number) => void) | undefined },
): Promise<WriteThroughResult> {
  const scan = options.scan;
  const reader = readStream(source, options.reader);
  let writer: StreamWriter | undefined;
  let batcher: PageBatcher | undefined;
  let xl: XlHeader | undefined;
  const wrapperParts: Uint8Array[] = [];
  let guest: GuestKind = scan?.guest ?? 'hvm';
  const requested = options.reader?.mode;
  const mode: WriterMode = scan
    ? scan.mode === 'postcopy-rfc'
      ? 'postcopy-rfc'
      : scan.mode
    : requested === 'remus' || requested === 'colo'
      ? requested
      : 'plain';
  if (mode === 'postcopy-rfc')
    throw new InspectArgumentError('rewrite does not handle postcopy (RFC) streams: only plain, Remus and COLO streams of the upstream format');
  // A checkpointed stream that ends inside a checkpoint: stop after the last complete one.
  const lastCheckpoint = scan?.end.status === 'failover' ? scan.end.completeCheckpoints : undefined;
  let skippedRecords = 0;
  let trailing: TrailingBytes | undefined;

  try {
    for await (const item of reader) {
      options.onProgress?.(item.offset + item.length);
      switch (item.kind) {
        case 'xl-header':
          xl = item.header;
          continue;
        case 'libxl-header':
        case 'libxc-image-header':
          continue;
        case 'libxc-domain-header': {
          if (!scan) guest = item.header.domainType === DOMAIN_TYPE_X86_PV ? 'pv' : guessHvmKind(xl);
          const out = await sink();
          if (wrapperParts.length > 0) await out.write(wrapperParts);
          writer = new StreamWriter(out, { mode, guest });
          batcher = new PageBatcher(writer, options.batch);
          if (xl) await writer.writeXlHeader({ header: xl });
          await writer.writeLibxlHeader();
          await writer.writeLibxcContext();
          await writer.writeLibxcHeaders({ xenMajor: item.header.xenMajor, xenMinor: item.header.xenMinor });
          continue;
        }
        case 'trailing':
          trailing = { length: item.length, isGoMessage: item.isGoMessage };
          continue;
        case 'container-part':
          wrapperParts.push(keptWrapperPart(item));
          continue;
        case 'record':
          break;
      }
      const record = item.record;
      if (item.layer === 'libxl' && record.name === 'LIBXC_CONTEXT') continue; // written with the libxc headers
      if (lastCheckpoint !== undefined && (item.checkpoint ?? 1) > lastCheckpoint) {
        skippedRecords++;
        continue;
      }
      if (!writer || !batcher) {
        throw new InspectArgumentError(`rewrite needs an xl or libxl stream (${record.layer} record ${record.name} came before any libxc domain header)`);
      }
      if (item.layer === 'libxc' && record.name === 'PAGE_DATA' && record.body.kind === 'page-data') {
        await batcher.add(record.body);
        continue;
      }
      await batcher.flush();
      if (item.layer === 'libxl' && record.name === 'END') {
        await writer.end();
        continue;
      }
      if (!scan && record.name === 'CHECKPOINT' && mode === 'plain') {
        throw new InspectArgumentError(
          'the input is a checkpointed (Remus/COLO) stream: read from a pipe in one pass, it cannot be rewritten without knowing where its last complete checkpoint ends. ' +
            'Give a seekable file, or --temp FILE, or --mode remus/colo',
        );
      }
      await writeRecord(writer, record);
    }
    if (!writer || !batcher) throw new InspectArgumentError('rewrite needs an xl or libxl stream with a libxc image');
    await batcher.flush();
    const end = reader.end as StreamEnd;
    if (end.status === 'failover') {
      if (!scan && (end.discardedRecords ?? 0) > 0) {
        throw new InspectArgumentError(
          `the input ends inside checkpoint ${(end.completeCheckpoints ?? 0) + 1} (a failover point); read in one pass from a pipe, its records were already written. ` +
            'Give a seekable file or --temp FILE so rewrite can stop at the last complete checkpoint',
        );
      }
      await writer.close();
    } else if (writer.state !== 'DONE') {
      throw new Error(`internal: the input ended but the writer is in state ${writer.state}`);
    }
    return {
      writer,
      guest,
      mode: reader.summary().mode ?? 'plain',
      end,
      summary: reader.summary(),
      problems: reader.problems,
      trailing,
      pageEntriesOut: batcher.entries,
      skippedRecords,
    };
  } catch (e) {
    await writer?.abort(e instanceof Error ? e : undefined).catch(() => undefined);
    throw e;
  }
}
