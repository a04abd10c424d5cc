/**
 * `npm run bench`: the micro-benchmarks, then the whole-file benchmarks.
 *
 *   npm run bench                          micro (1 s per case) + files on a 256 MiB stream, 5 interleaved runs (minutes)
 *   npm run bench -- --size 1G --sizes 1G,4G   the table on 1 GiB, the size-dependent rows again on 4 GiB (issue #15's sizes)
 *   npm run bench -- --smoke               16 MiB, 1 run, a 1 MiB record, 20 ms per micro case: checks the harness runs (seconds)
 *   npm run bench -- --no-micro --only verify,stats
 *
 * Every option of bench/files.ts is accepted; results go to bench/results/ as JSON.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/args.js';
import { FILES_OPTIONS, filesOptionsFrom, renderFiles, runFiles, type FilesResult } from './files.js';
import { microCases, microTable, microTargets, runMicro, type MicroResult } from './micro.js';
import { machineInfo } from './lib/machine.js';
import { table, writeResult } from './lib/report.js';

export interface RunResult {
  micro?: MicroResult;
  files?: FilesResult;
  /** JSON files written. */
  written: string[];
}

export async function benchMain(argv: readonly string[], log: (s: string) => void = (s) => process.stdout.write(s)): Promise<RunResult> {
  const args = parseArgs(
    argv,
    {
      ...FILES_OPTIONS,
      micro: { type: 'boolean', default: true, describe: 'run the micro-benchmarks (--no-micro to skip)' },
      files: { type: 'boolean', default: true, describe: 'run the whole-file benchmarks (--no-files to skip)' },
      'micro-time': { type: 'string', default: '1', describe: 'seconds benchmark.js spends per micro case' },
      smoke: {
        type: 'boolean',
        default: false,
        describe: 'tiny and quick: --size 16M --runs 1 --record-size 1M --micro-time 0.02 (checks the harness, not the speed)',
      },
    },
    'usage: npm run bench -- [options]',
  );
  if (args.smoke) {
    if (!argv.some((a) => a.startsWith('--size='))) args.size = argv.includes('--size') ? args.size : '16M';
    if (!argv.some((a) => a.startsWith('--runs'))) args.runs = '1';
    if (!argv.some((a) => a.startsWith('--micro-time'))) args['micro-time'] = '0.02';
    if (!argv.some((a) => a.startsWith('--record-size'))) args['record-size'] = '1M';
  }
  const written: string[] = [];
  const out: RunResult = { written };
  const resultsDir = String(args['results-dir']);
  const label = typeof args.label === 'string' ? args.label : undefined;
  if (args.micro) {
    const maxTime = Number(args['micro-time']);
    const machine = machineInfo();
    log(`micro-benchmarks: ${maxTime} s per case, load ${machine.loadavg.join(' ')}\n`);
    const rows = runMicro(microCases(), maxTime, log);
    out.micro = { kind: 'micro', startedAt: new Date().toISOString(), machine, maxTimeSeconds: maxTime, rows, targets: microTargets(rows) };
    log(`\n${table(microTable(rows))}`);
    for (const t of out.micro.targets) log(`target: ${t.name} ${t.target}: ${t.value} — ${t.met ? 'met' : 'MISSED'}\n`);
    if (args.write) written.push(writeResult(resultsDir, 'micro', label, out.micro));
  }
  if (args.files) {
    const opts = filesOptionsFrom(args, log);
    out.files = await runFiles(opts);
    log(renderFiles(out.files));
    if (opts.markdown) log(`\n${renderFiles(out.files, true)}`);
    if (opts.write) written.push(writeResult(resultsDir, 'files', label, out.files));
  }
  for (const w of written) log(`result: ${w}\n`);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchMain(process.argv.slice(2));
}
