/** What a rewrite is asked to do, and what it reports. */
import { MAX_BATCH_SIZE } from '../format/constants.js';
import type { CompressionName } from '../io/compression/index.js';
import type { ReaderOptions } from '../reader/decoder.js';
import type { Problem, StreamEnd, StreamMode } from '../reader/items.js';
import type { GuestKind, WriterMode } from '../writer/writer-automaton.js';
import { InspectArgumentError } from '../inspect/argument-error.js';

export type RewritePhase = 'spool' | 'scan' | 'write';

export interface RewriteOptions {
  /** pfns per PAGE_DATA record, 1 … 1024 (Xen's limit). Default: the input's records as they are; 1024 with flatten. */
  batch?: number | undefined;
  /** Make a plain single-pass save of a multi-pass or checkpointed stream (every pfn once, last contents). */
  flatten?: boolean | undefined;
  /** Spool file for a pipe (or a gzip file with flatten); must not exist; deleted afterwards. Default for gzip: in os.tmpdir(). */
  temp?: string | undefined;
  /** Compress the output written to a path (gzip, zstd, xz, bzip2, lz4); bytesOut stays the stream's size. */
  compress?: CompressionName | undefined;
  /** How to read the input (default strict, upstream dialect, auto mode). */
  reader?: ReaderOptions | undefined;
  /** Progress: the phase and the (decompressed) input bytes it has done. */
  onProgress?: ((phase: RewritePhase, bytesDone: number) => void) | undefined;
}

export interface RewriteResult {
  /** Input stream mode and guest kind. */
  inputMode: StreamMode;
  guest: GuestKind;
  outputMode: WriterMode;
  /** Records read (all of them, including any the output drops), keyed `layer:NAME`. */
  inputRecords: Record<string, number>;
  /** Records written, keyed `layer:NAME`. */
  outputRecords: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  pageEntriesIn: number;
  pageEntriesOut: number;
  /** PAGE_DATA passes of the input (a pass: pfns ascending). */
  passesIn: number;
  distinctPfns: number;
  /** Checkpointed input: the checkpoint whose state the output holds. */
  checkpoint?: number;
  /** The reader's end of the input. */
  end: StreamEnd;
  /** What was dropped or changed, in words (trailing bytes, discarded checkpoint, VERIFY…). */
  notes: string[];
  /** The reader's warnings and notes. */
  problems: readonly Problem[];
  /** The input was read twice (scan, then write). */
  passes: 1 | 2;
  spooledTo?: string;
}

export function checkRewriteOptions(options: RewriteOptions): void {
  if (options.reader?.dialect === 'postcopy-rfc') {
    throw new InspectArgumentError('rewrite does not handle postcopy (RFC) streams: only plain, Remus and COLO streams of the upstream format');
  }
  const b = options.batch;
  if (b !== undefined && (!Number.isInteger(b) || b < 1 || b > MAX_BATCH_SIZE)) {
    throw new InspectArgumentError(`--batch must be an integer from 1 to ${MAX_BATCH_SIZE} (Xen's MAX_BATCH_SIZE), got ${b}`);
  }
}
