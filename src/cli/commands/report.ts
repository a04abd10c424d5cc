/**
 * `stream-inspect report FILE -o report.html`: one self-contained HTML report
 * (src/report). Exit 0 when the report was written — also for an invalid
 * stream, whose report shows the error with its offset and rule id (use
 * `verify` for a pass/fail status); 1 for a corrupt gzip input; 2 for usage
 * and I/O errors (then no output file is left behind).
 */
import type { Argv, CommandModule } from 'yargs';
import { buildReport } from '../../report/write.js';
import { AtomicOutput } from '../../io/atomic-output.js';
import { EXIT_OK, runCommand } from '../errors.js';
import { dashArgument, inputName, inputSource, readerOptionsFrom, withCommonOptions, type CommonArgs, STREAM_FILE_ARGUMENT } from '../options.js';
import { progressFor } from '../progress.js';

interface ReportArgs extends CommonArgs {
  file: string;
  output: string;
  quiet: boolean;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <file>',
  describe: 'write a self-contained HTML report (charts, timeline, verdict, records); exit 0 when written, even for an invalid stream',
  builder: (y: Argv) =>
    withCommonOptions(y)
      .positional('file', STREAM_FILE_ARGUMENT)
      .option('output', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        coerce: dashArgument,
        describe: "HTML file to write (complete or not at all), or '-' for stdout",
      })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no summary line on stderr' })
      .example('$0 report save.bin.gz -o save.html', 'report of a save file')
      .example('$0 report - -o - < save.bin > save.html', 'stdin to stdout') as unknown as Argv<ReportArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      const source = inputSource(args.file);
      // Opened (and checked) before the input is read; committed only once the report is written.
      const file = args.output === '-' ? undefined : await AtomicOutput.open(args.output, { inputs: [args.file === '-' ? 0 : args.file] });
      const progress = await progressFor('report', args.file);
      let bytes: Buffer;
      let built: Awaited<ReturnType<typeof buildReport>>;
      try {
        try {
          built = await buildReport(source, { reader: readerOptionsFrom(args), inputName: inputName(args.file), onProgress: (n) => progress.update(n) });
        } finally {
          progress.done();
        }
        bytes = Buffer.from(built.html, 'utf8');
        if (file) {
          await file.write([bytes]);
          await file.commit();
        } else {
          await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (e) => (e ? reject(e) : resolve())));
        }
      } catch (e) {
        await file?.discard();
        throw e;
      }
      if (!args.quiet) {
        const v = built.data.verdict;
        const what = v.error ? `INVALID stream (${v.error.ruleId} at offset ${v.error.offset}), shown in the report` : 'valid stream';
        process.stderr.write(
          `stream-inspect: report of ${inputName(args.file)} written to ${args.output === '-' ? 'stdout' : args.output} (${bytes.length.toLocaleString('en-US')} bytes): ${what}\n`,
        );
      }
      return EXIT_OK;
    }),
};
