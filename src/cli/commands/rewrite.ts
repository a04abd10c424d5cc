/** `stream-inspect rewrite IN -o OUT [--batch N] [--flatten]`: a new stream through the writer (src/rewrite). */
import type { Argv, CommandModule } from 'yargs';
import { MAX_BATCH_SIZE } from '../../format/constants.js';
import { grouped, sizeText } from '../../inspect/text-format.js';
import { rewriteStream } from '../../rewrite/rewrite.js';
import type { RewritePhase } from '../../rewrite/rewrite-options.js';
import { WritableSink } from '../../writer/writable-sink.js';
import { EXIT_OK, UsageError, runCommand } from '../errors.js';
import {
  dashArgument,
  integerOption,
  inputName,
  inputSource,
  readerOptionsFrom,
  withCommonOptions,
  type CommonArgs,
  STREAM_FILE_ARGUMENT,
} from '../options.js';
import { progressFor, type Progress } from '../progress.js';
import { outputCompression, STDOUT_PATH, withCompressOption, type CompressArgs } from '../output-compression.js';

interface RewriteArgs extends CommonArgs, CompressArgs {
  file: string;
  output: string;
  batch?: string;
  flatten: boolean;
  temp?: string;
  quiet: boolean;
}

const PHASE_LABEL: Record<RewritePhase, string> = {
  spool: 'rewrite: decompressing to the spool file',
  scan: 'rewrite: pass 1 (index)',
  write: 'rewrite: writing',
};

export const rewriteCommand: CommandModule<object, RewriteArgs> = {
  command: 'rewrite <file>',
  describe: 'write the stream again through the writer: re-batch PAGE_DATA, or flatten a migration/checkpointed stream into a plain save',
  builder: (y: Argv) =>
    withCompressOption(withCommonOptions(y))
      .positional('file', STREAM_FILE_ARGUMENT)
      .option('output', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        coerce: dashArgument,
        describe: "new stream (mode 0600, written under a temporary name, renamed when complete), or '-' for stdout",
      })
      .option('batch', {
        type: 'string',
        describe: `pfns per PAGE_DATA record, 1-${MAX_BATCH_SIZE} (default: keep the input's records; ${MAX_BATCH_SIZE} with --flatten)`,
      })
      .option('flatten', {
        type: 'boolean',
        default: false,
        describe: 'plain single-pass save: every pfn once with its last contents; state of the last complete checkpoint',
      })
      .option('temp', { type: 'string', describe: 'spool file for a pipe (or a gzip input with --flatten); must not exist; removed afterwards' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no summary' })
      .example('$0 rewrite fixtures/xen-4.17/pv128-save.bin.gz -o pv128-b64.bin --batch 64', 'smaller PAGE_DATA records')
      .example('$0 rewrite migrate-capture.bin -o saved.bin --flatten', 'a captured live migration as a save file xl restore takes')
      .check((a) => {
        // Checked here, before any input is read; the text as typed, so "abc" is quoted rather than shown as NaN.
        const b = (a as { batch?: string }).batch;
        if (b !== undefined) integerOption('batch', b, 1, MAX_BATCH_SIZE);
        return true;
      }) as unknown as Argv<RewriteArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      // '-': the stream goes to stdout as it is written (a failure then leaves a partial stream: the exit status says so).
      if (args.output === '-' && process.stdout.isTTY)
        throw new UsageError('rewrite: refusing to write a binary stream to a terminal (use -o FILE or redirect stdout)');
      const compress = outputCompression(args.output, args.compress);
      const output = args.output !== '-' ? args.output : compress ? STDOUT_PATH : new WritableSink(process.stdout, { end: false });
      // One progress line per phase (only on a terminal), in (decompressed) input bytes.
      const bars: Record<RewritePhase, Progress> = {
        spool: await progressFor(PHASE_LABEL.spool, args.file),
        scan: await progressFor(PHASE_LABEL.scan, args.file),
        write: await progressFor(PHASE_LABEL.write, args.file),
      };
      let phase: RewritePhase | undefined;
      const onProgress = (p: RewritePhase, n: number) => {
        if (p !== phase && phase) bars[phase].done();
        phase = p;
        bars[p].update(n);
      };
      let r: Awaited<ReturnType<typeof rewriteStream>>;
      try {
        r = await rewriteStream(inputSource(args.file), output, {
          reader: readerOptionsFrom(args),
          batch: args.batch === undefined ? undefined : integerOption('batch', args.batch, 1, MAX_BATCH_SIZE),
          flatten: args.flatten,
          temp: args.temp,
          compress,
          onProgress,
        });
      } finally {
        if (phase) bars[phase].done();
      }
      if (!args.quiet) {
        const rec = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
        const pd = r.outputRecords['libxc:PAGE_DATA'] ?? 0;
        let line = `${args.output === '-' ? '(stdout)' : args.output}: ${r.outputMode} ${r.guest} stream, ${sizeText(r.bytesOut)}, ${grouped(rec(r.outputRecords))} records (${grouped(pd)} PAGE_DATA with ${grouped(r.pageEntriesOut)} pfns)`;
        line += ` from ${inputName(args.file)}: ${r.inputMode}, ${grouped(rec(r.inputRecords))} records, ${grouped(r.pageEntriesIn)} pfn entries in ${r.passesIn} pass(es)`;
        if (r.checkpoint !== undefined) line += `, state of checkpoint ${r.checkpoint}`;
        process.stdout.write(`${line}\n`);
        for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
      }
      for (const p of r.problems) process.stderr.write(`${p.severity}: ${p.message}\n`);
      return EXIT_OK;
    }),
};
