/**
 * One whole-file benchmark run: set up, make the inputs, run every row
 * interleaved, run the size-dependent rows at the other --sizes, score the
 * targets, clean up. The result carries file names only, no machine paths.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseSize } from '../lib/args.js';
import { loadavg, machineInfo } from '../lib/machine.js';
import { gnuTimeAvailable } from '../lib/measure.js';
import { nodeEnv, rm, ROOT, settle, warm } from './commands.js';
import { gzipCopy, synthStream, synthTiny, writeBigRecordStream } from './inputs.js';
import type { FilesOptions } from './options.js';
import { references } from './render.js';
import type { RowContext, RowSpec } from './row-context.js';
import { migrateRows } from './rows-migrate.js';
import { pipeRows } from './rows-pipe.js';
import { gzipRows, sizedReadRows, startupRow } from './rows-read.js';
import { writeRows } from './rows-write.js';
import { rowResult, runRounds, toRows } from './runner.js';
import { chooseOutDir, gitState, snapshotDist, unavailableCommands } from './setup.js';
import { runAtSize } from './sizes.js';
import { measuredSets, scoreTargets } from './targets.js';
import type { FilesResult, SizeRun } from './types.js';
import { findXenRunner } from './xen.js';

/** Every row of the main table, in table order. */
export function allRows(ctx: RowContext): RowSpec[] {
  const [readFloor, nodeStartup, ...sized] = sizedReadRows(ctx);
  return [readFloor, nodeStartup, startupRow(ctx), ...sized, ...gzipRows(ctx), ...writeRows(ctx), ...pipeRows(ctx), ...migrateRows(ctx)];
}

/** The ids --only keeps: the named rows, the start-up pair, and every floor they are compared with. */
export function selectedIds(rows: readonly RowSpec[], only: readonly string[] | undefined): Set<string> {
  if (!only) return new Set(rows.map((r) => r.id));
  const keep = new Set([...only, 'node-startup', 'startup']);
  for (const r of rows) if (keep.has(r.id)) for (const f of [r.floor, r.rssFloor]) if (f) keep.add(f);
  return keep;
}

/** The stream of --size, the tiny one, and (when their rows are selected) the gzip copy and the large-record stream. */
async function makeInputs(ctx: RowContext, opts: FilesOptions): Promise<{ ctx: RowContext; files: string[] }> {
  const { log } = opts;
  const { path, size } = ctx.stream;
  log(`synth --kind pv --xl --size ${size} -o ${path} … `);
  const made = await synthStream(ctx.clis.inspect, path, size);
  log(`${made.bytes} bytes in ${(made.ms / 1000).toFixed(1)} s\n`);
  await synthTiny(ctx.clis.inspect, ctx.tiny);
  const wanted = selectedIds(allRows(ctx), opts.only);
  const out: RowContext = { ...ctx, stream: { ...ctx.stream, bytes: made.bytes } };
  const files = [path, ctx.tiny];
  if (wanted.has('verify-gz')) {
    const gz = `${path}.gz`;
    log('gzip -1 of the stream … ');
    out.gz = { path: gz, bytes: gzipCopy(path, gz) };
    log(`${out.gz.bytes} bytes\n`);
    files.push(gz);
  }
  if (wanted.has('migrate-record') || wanted.has('record-pipe-verify')) {
    const big = join(opts.dir, `record-${opts.recordSize}.xl`);
    const recordBytes = parseSize(opts.recordSize);
    out.bigRecord = { path: big, bytes: writeBigRecordStream(big, recordBytes), recordBytes };
    files.push(big);
  }
  settle();
  log('warming the page cache: reading every input once\n');
  for (const f of files) warm(f);
  return { ctx: out, files };
}

interface SetUp {
  machine: ReturnType<typeof machineInfo>;
  loadBefore: number[];
  notes: string[];
  rssFile: string | undefined;
  rssMethod: string;
  dist: ReturnType<typeof snapshotDist>;
  outDir: { path: string; why: string };
  /** The row context before the inputs exist (their sizes are filled in by makeInputs). */
  draft: RowContext;
}

/** Machine, GNU time, the dist/ snapshot, which commands run, Xen's verifier, the output directory. */
async function setUp(opts: FilesOptions): Promise<SetUp> {
  const { log } = opts;
  mkdirSync(opts.dir, { recursive: true });
  const machine = machineInfo(opts.dir);
  const loadBefore = loadavg();
  const notes: string[] = [];
  const rssFile = gnuTimeAvailable() ? join(opts.dir, `.rss-${process.pid}`) : undefined;
  const rssMethod = rssFile
    ? 'GNU time -f %M (peak RSS, KiB, of the one process it wraps: in pipelines the reading process, not the first cat; in migrations the receiver)'
    : 'not measured: GNU time is missing (apt-get install -y time)';
  if (!rssFile) notes.push(rssMethod);

  const dist = snapshotDist();
  if (dist.info.staleWarning) {
    notes.push(dist.info.staleWarning);
    log(`warning: ${dist.info.staleWarning}\n`);
  }
  const unavailable = unavailableCommands(dist.clis, ['verify', 'stats', 'dump', 'extract', 'synth']);
  for (const [n, why] of unavailable) if (why) log(`${n}: ${why}\n`);
  if (unavailable.get('synth')) throw new Error(`cannot generate the stream: ${unavailable.get('synth')}`);
  const xen = await findXenRunner();
  log(xen.runner ? `Xen verifier: ${xen.runner.script}, python ${xen.runner.python}\n` : `Xen verifier: skipped: ${xen.reason}\n`);
  const { nproc, cpuModel, memTotalMiB, node, disk } = machine;
  log(`machine: ${nproc} cpus (${cpuModel}), ${memTotalMiB} MiB, node ${node}, disk ${disk ?? '?'}; load ${loadBefore.join(' ')}\n`);

  const outDir = chooseOutDir(opts.outDir, opts.dir, parseSize(opts.size));
  mkdirSync(outDir.path, { recursive: true });
  log(`outputs of the write rows go to ${outDir.path} (${outDir.why})\n`);
  const where = outDir.why.startsWith('tmpfs') ? outDir.why : 'the --dir / --out-dir filesystem';
  notes.push(`outputs (cp, extract, synth, write floors, migrations) written to ${where}`);
  const draft: RowContext = {
    env: nodeEnv(),
    clis: dist.clis,
    stream: { path: join(opts.dir, `pv-${opts.size}.xl`), bytes: 0, size: opts.size },
    tiny: join(opts.dir, 'tiny-pv.xl'),
    outDir: outDir.path,
    unavailable,
    xen,
  };
  return { machine, loadBefore, notes, rssFile, rssMethod, dist, outDir, draft };
}

export async function runFiles(opts: FilesOptions): Promise<FilesResult> {
  const { log } = opts;
  const startedAt = new Date().toISOString();
  const { machine, loadBefore, notes, rssFile, rssMethod, dist, outDir, draft } = await setUp(opts);
  const xen = draft.xen;
  const { ctx, files } = await makeInputs(draft, opts);

  const ids = selectedIds(allRows(ctx), opts.only);
  const rows = toRows(allRows(ctx).filter((r) => ids.has(r.id)));
  const order = `round-robin: each of the ${opts.runs} rounds runs every command once, starting one command later than the round before`;
  log(`${rows.filter((r) => !r.skipped).length} commands × ${opts.runs} runs, interleaved (${order}):\n`);
  let results: ReturnType<typeof rowResult>[];
  const sizes: SizeRun[] = [];
  try {
    await runRounds(rows, opts.runs, rssFile, log);
    results = rows.map((r) => rowResult(r, rows));
    for (const size of opts.sizes) sizes.push(await runAtSize(size, { ctx, rows: results }, { ...opts, rssFile }));
  } finally {
    if (!opts.keep) for (const f of files) rm(f);
    if (rssFile) rm(rssFile);
    dist.remove();
    if (outDir.path !== opts.dir && outDir.why.startsWith('tmpfs')) rmSync(outDir.path, { recursive: true, force: true });
  }
  const recordBytes = ctx.bigRecord?.recordBytes;
  const result: FilesResult = {
    kind: 'files',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    loadBefore,
    loadAfter: loadavg(),
    ...(gitState() ? { git: gitState() } : {}),
    cli: dist.info,
    xenVerifier: xen.runner?.describe ?? `not run: ${xen.reason}`,
    rssMethod,
    pageCache:
      'every input was synced to disk and then read once before timing, so every command reads it from the page cache ' +
      `(${machine.memAvailableMiB} MiB available); outputs are deleted and \`sync\` is run after every run that writes, outside the timing`,
    order,
    size: opts.size,
    bytes: ctx.stream.bytes,
    runs: opts.runs,
    inputs: Object.fromEntries(files.map((f) => [inputRole(ctx, f), basename(f)])),
    rows: results,
    sizes,
    targets: scoreTargets(measuredSets(opts.size, results, sizes), recordBytes),
    references: references(results),
    notes,
  };
  return withoutMachinePaths(result, [
    [outDir.path, 'OUTDIR'],
    [opts.dir, 'DIR'],
    [ROOT, '.'],
    [process.execPath, 'node'],
    ...(xen.runner
      ? ([
          [xen.runner.python, 'python3'],
          [xen.runner.script, 'verify-stream-v2'],
        ] as Array<[string, string]>)
      : []),
  ]);
}

function inputRole(ctx: RowContext, file: string): string {
  if (file === ctx.stream.path) return 'stream';
  if (file === ctx.tiny) return 'tiny';
  return file === ctx.gz?.path ? 'gzip' : 'bigRecord';
}

/**
 * Result files are committed: any absolute path of this machine that reached
 * a message (a failed row's stderr, a note) is replaced by a short name.
 * Longest first, so a path inside another is replaced whole.
 */
function withoutMachinePaths(result: FilesResult, names: Array<[string, string]>): FilesResult {
  let text = JSON.stringify(result);
  for (const [path, name] of [...names].sort((a, b) => b[0].length - a[0].length)) text = text.split(path).join(name);
  return JSON.parse(text) as FilesResult;
}
