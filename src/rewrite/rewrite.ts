/**
 * rewriteStream: read a migration stream and write a new one through the
 * StreamWriter state machine (never a byte copy), keeping the xl header and
 * its JSON config byte for byte.
 *
 *  - batch N: PAGE_DATA re-batched to N pfns per record (a new pass starts a new record).
 *  - flatten: a multi-pass live migration or a Remus/COLO stream becomes a plain
 *    single-pass save: every pfn once with its last contents and type, the state
 *    records of the last complete checkpoint, libxc END and libxl END.
 *
 * Passes: a re-readable input (a file, bytes) is scanned first (the whole
 * stream validated before any output exists), then read again to write. A
 * pipe is rewritten in one pass unless a spool file (`temp`) is given;
 * --flatten needs a second pass by offset, so a pipe needs `temp` and a gzip
 * file is decompressed to a spool file first. Bytes after the final END are
 * dropped (noted). The output appears only when complete: a file output is
 * written under a temporary name and renamed at the end; on any error it is
 * deleted and the error (the reader's StreamFormatError for bad input) thrown.
 * The output path is checked (not the input, not a directory) before the input
 * is read; the file is 0600 (src/io/atomic-output.ts).
 */
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { checkOutput } from '../io/atomic-output.js';
import { FileSink } from '../writer/file-sink.js';
import type { StreamSink } from '../writer/sink.js';
import type { StreamSource } from '../reader/sources.js';
import type { StreamSummary } from '../reader/summary.js';
import { prepareInput } from './input.js';
import { writeFlattened } from './flatten.js';
import { checkRewriteOptions, type RewriteOptions, type RewriteResult } from './rewrite-options.js';
import { scanStream, type ScanResult, type TrailingBytes } from './scan.js';
import { writeThrough } from './write-through.js';

function recordCounts(summary: StreamSummary): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of summary.byType) out[`${t.layer}:${t.name}`] = t.records;
  return out;
}

function trailingNote(t: TrailingBytes | undefined): string[] {
  if (!t) return [];
  return [
    t.isGoMessage
      ? `dropped the ${t.length} bytes after libxl END: xl migrate's go message ("domain is yours, you are cleared to unpause"), the input is a capture of the wire`
      : `dropped ${t.length} bytes after libxl END (not part of the stream)`,
  ];
}

/** Where the output goes: a path (atomic: temporary name, renamed when complete) or any sink. */
export type RewriteOutput = string | StreamSink;

function sinkFactory(output: RewriteOutput, inputs: (string | number)[], compress?: RewriteOptions['compress']): () => Promise<StreamSink> {
  return () => (typeof output === 'string' ? FileSink.create(output, { inputs, ...(compress ? { compress } : {}) }) : Promise.resolve(output));
}

// Long (~100 lines) on purpose: the rewrite's two passes and its clean-up in order, in one
// place, so that every exit path (error, abort, success) is visible together.
export async function rewriteStream(input: StreamSource, output: RewriteOutput, options: RewriteOptions = {}): Promise<RewriteResult> {
  checkRewriteOptions(options);
  const flatten = options.flatten ?? false;
  const progress = options.onProgress;
  const inputs = typeof input === 'string' || typeof input === 'number' ? [input] : [];
  // Refuse a bad output before reading (and spooling) any input.
  if (typeof output === 'string') await checkOutput(output, { inputs });
  const prepared = await prepareInput(input, {
    positional: flatten,
    temp: options.temp,
    // The spool goes next to the output: same filesystem, and not a small tmpfs.
    spoolDir: typeof output === 'string' && !output.startsWith('/dev/') ? dirname(output) : tmpdir(),
    reader: options.reader,
    onProgress: progress && ((n) => progress('spool', n)),
  });
  const notes: string[] = [];
  if (prepared.spooledTo)
    notes.push(`decompressed/copied the input (${prepared.spooledBytes} bytes) to ${prepared.spooledTo} for the second pass; removed afterwards`);
  try {
    let scan: ScanResult | undefined;
    if (prepared.rereadable) {
      scan = await scanStream(prepared.source(), { reader: options.reader, flatten, onProgress: progress && ((n) => progress('scan', n)) });
    }
    if (flatten && scan) {
      const pages = await prepared.openPages();
      let written: Awaited<ReturnType<typeof writeFlattened>>;
      try {
        const totalPfns = scan.index?.size ?? 0;
        const bytesIn = scan.end.bytesRead;
        written = await writeFlattened(scan, pages, await sinkFactory(output, inputs, options.compress)(), {
          batch: options.batch,
          // progress in input-byte terms: the share of pfns written
          onProgress: progress && ((n) => progress('write', totalPfns ? Math.round((bytesIn * n) / totalPfns) : bytesIn)),
        });
      } finally {
        await pages.close();
      }
      const s = scan.summary;
      if (scan.rolledBack) notes.push(`left out ${scan.rolledBack} pfn copies of the incomplete checkpoint after checkpoint ${scan.end.completeCheckpoints}`);
      if (s.resentPfns) notes.push(`${s.pageEntries - (scan.index?.size ?? 0)} resent pfn entries folded into their last copies`);
      if ((s.byType.find((t) => t.name === 'VERIFY')?.records ?? 0) > 0)
        notes.push('dropped VERIFY and its debug re-send of the pages (the pages already hold their last contents)');
      notes.push(...trailingNote(scan.trailing));
      return {
        inputMode: scan.mode,
        guest: scan.guest,
        outputMode: 'plain',
        inputRecords: recordCounts(s),
        outputRecords: written.writer.recordCounts(),
        bytesIn: scan.end.bytesRead,
        bytesOut: written.writer.bytesWritten,
        pageEntriesIn: s.pageEntries,
        pageEntriesOut: written.pageEntriesOut,
        passesIn: s.passes.length,
        distinctPfns: s.distinctPfns,
        ...(scan.end.completeCheckpoints !== undefined ? { checkpoint: scan.stateCheckpoint ?? scan.end.completeCheckpoints } : {}),
        end: scan.end,
        notes,
        problems: scan.problems,
        passes: 2,
        ...(prepared.spooledTo ? { spooledTo: prepared.spooledTo } : {}),
      };
    }
    const r = await writeThrough(prepared.source(), sinkFactory(output, inputs, options.compress), {
      reader: options.reader,
      batch: options.batch,
      scan,
      onProgress: progress && ((n) => progress('write', n)),
    });
    if (r.skippedRecords) {
      notes.push(
        `left out ${r.skippedRecords} records of the incomplete checkpoint after checkpoint ${r.end.completeCheckpoints} (a failover restores that one)`,
      );
    }
    notes.push(...trailingNote(r.trailing));
    return {
      inputMode: r.mode,
      guest: r.guest,
      outputMode: r.writer.mode,
      inputRecords: recordCounts(r.summary),
      outputRecords: r.writer.recordCounts(),
      bytesIn: r.end.bytesRead,
      bytesOut: r.writer.bytesWritten,
      pageEntriesIn: r.summary.pageEntries,
      pageEntriesOut: r.pageEntriesOut,
      passesIn: r.summary.passes.length,
      distinctPfns: r.summary.distinctPfns,
      ...(r.end.completeCheckpoints !== undefined ? { checkpoint: r.end.completeCheckpoints } : {}),
      end: r.end,
      notes,
      problems: r.problems,
      passes: scan ? 2 : 1,
      ...(prepared.spooledTo ? { spooledTo: prepared.spooledTo } : {}),
    };
  } finally {
    await prepared.cleanup();
  }
}
