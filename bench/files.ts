/**
 * Whole-file benchmarks (issue 8, issue #15 item 6): streams of --size bytes,
 * then every command as its own child process, interleaved round-robin,
 * --runs rounds, median and min–max, peak RSS (GNU time), ratios to floors
 * measured in the same run, and issue #15's targets scored met / missed.
 *
 *   npx tsx bench/files.ts [--size 256M] [--runs 5] [--sizes 1G,4G] [--record-size 64M] [--only verify,stats] [--dir DIR]
 *
 * The parts, one concept per file, under bench/files/:
 *   rows-read.ts, rows-pipe.ts, rows-write.ts, rows-migrate.ts   the rows (what runs, against which floor)
 *   runner.ts     interleaved rounds and per-row summaries
 *   sizes.ts      the size-dependent rows again at every --sizes size
 *   targets.ts    issue #15's bounds as data, scored met / missed
 *   inputs.ts, setup.ts, xen.ts, commands.ts   inputs, dist/ snapshot, Xen's verifier, process plumbing
 *   render.ts     tables;  options.ts  the options;  run-files.ts  one run end to end
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/args.js';
import { writeResult } from './lib/report.js';
import { FILES_OPTIONS, filesOptionsFrom } from './files/options.js';
import { renderFiles } from './files/render.js';
import { runFiles } from './files/run-files.js';
import type { FilesResult } from './files/types.js';

export { FILES_OPTIONS, filesOptionsFrom } from './files/options.js';
export { renderFiles } from './files/render.js';
export { runFiles } from './files/run-files.js';
export type { FilesResult, RowResult, SizeRun, TargetResult } from './files/types.js';

export async function filesMain(argv: readonly string[], log: (s: string) => void = (s) => process.stdout.write(s)): Promise<FilesResult> {
  const args = parseArgs(argv, FILES_OPTIONS, 'usage: tsx bench/files.ts [options]');
  const opts = filesOptionsFrom(args, log);
  const result = await runFiles(opts);
  log(renderFiles(result));
  if (opts.markdown) log(`\n${renderFiles(result, true)}`);
  if (opts.write) log(`result: ${writeResult(opts.resultsDir, 'files', opts.label, result)}\n`);
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await filesMain(process.argv.slice(2));
}
