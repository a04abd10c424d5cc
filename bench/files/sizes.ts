/**
 * --sizes: the size-dependent rows (the read floor, node -e 0, verify, stats,
 * dump -f ndjson, Xen's verifier) again on a stream of each size, interleaved
 * among themselves; the size of the main table is taken from it, not rerun.
 */
import { join } from 'node:path';
import { parseSize } from '../lib/args.js';
import { rm, settle, warm } from './commands.js';
import { synthStream } from './inputs.js';
import type { RowContext } from './row-context.js';
import { sizedReadRows } from './rows-read.js';
import { rowResult, runRounds, toRows } from './runner.js';
import type { RowResult, SizeRun } from './types.js';

export interface SizeRunOptions {
  dir: string;
  runs: number;
  keep: boolean;
  rssFile: string | undefined;
  log: (s: string) => void;
}

export async function runAtSize(size: string, main: { ctx: RowContext; rows: readonly RowResult[] }, opts: SizeRunOptions): Promise<SizeRun> {
  if (parseSize(size) === parseSize(main.ctx.stream.size)) {
    const ids = new Set(sizedReadRows(main.ctx).map((r) => r.id));
    return { size, bytes: main.ctx.stream.bytes, runs: opts.runs, fromMainTable: true, rows: main.rows.filter((r) => ids.has(r.id)) };
  }
  const path = join(opts.dir, `sized-pv-${size}.xl`);
  opts.log(`at ${size}: synth … `);
  const made = await synthStream(main.ctx.clis.inspect, path, size);
  opts.log(`${made.bytes} bytes in ${(made.ms / 1000).toFixed(1)} s; sync; warming the page cache\n`);
  settle();
  warm(path);
  const ctx: RowContext = { ...main.ctx, stream: { path, bytes: made.bytes, size } };
  const rows = toRows(sizedReadRows(ctx));
  try {
    await runRounds(rows, opts.runs, opts.rssFile, opts.log);
  } finally {
    if (!opts.keep) rm(path);
  }
  return { size, bytes: made.bytes, runs: opts.runs, fromMainTable: false, rows: rows.map((r) => rowResult(r, rows)) };
}
