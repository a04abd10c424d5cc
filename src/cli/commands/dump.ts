/** `stream-inspect dump FILE`: every header and record, as text, JSON or NDJSON. */
import type { Argv, CommandModule } from 'yargs';
import { dumpStream, DUMP_FORMATS, type DumpFormat, type DumpResult } from '../../inspect/dump.js';
import type { BackChannelKind } from '../../reader/back-channel.js';
import { parseRecordFilter } from '../../inspect/record-filter.js';
import { FileTextSink } from '../../inspect/file-text-sink.js';
import { withOutput } from '../../io/atomic-output.js';
import { dumpLegacy } from '../../legacy/legacy-dump.js';
import { isLegacyImage } from '../../legacy/legacy-probe.js';
import { type TextSink, WritableTextSink } from '../../inspect/text-sink.js';
import { runCommand, EXIT_OK, UsageError } from '../errors.js';
import { inputSource, readerOptionsFrom, withCommonOptions, type CommonArgs, dashArgument, STREAM_FILE_ARGUMENT } from '../options.js';
import { progressFor } from '../progress.js';

interface DumpArgs extends CommonArgs {
  file: string;
  format: DumpFormat;
  records?: string;
  pages: boolean;
  machine: boolean;
  output?: string;
  channel?: BackChannelKind;
}

export const dumpCommand: CommandModule<object, DumpArgs> = {
  command: 'dump <file>',
  describe: 'print every header and record with its offset, layer, type, length and decoded fields',
  builder: (y: Argv) =>
    withCommonOptions(y)
      .positional('file', STREAM_FILE_ARGUMENT)
      .option('format', {
        alias: 'f',
        choices: DUMP_FORMATS,
        default: 'text' as DumpFormat,
        describe: 'text (readable), json (one document, input of encode) or ndjson (one object per line)',
      })
      .option('records', { alias: 'r', type: 'string', describe: 'only these record types: names or numbers, optionally layer-prefixed (PAGE_DATA,libxl:0x3)' })
      .option('pages', { type: 'boolean', default: false, describe: 'list the pfns of PAGE_DATA records (text, ndjson)' })
      .option('channel', {
        choices: ['colo', 'postcopy'] as const,
        describe: "FILE is a captured back channel (receiver → sender, no headers): COLO's CHECKPOINT_STATE cycle or the postcopy RFC's faults",
      })
      .option('machine', {
        type: 'boolean',
        default: false,
        describe: 'every decoded field of HVM save entries and PV vCPU records (text; registers are always shown)',
      })
      .option('output', {
        alias: 'o',
        type: 'string',
        coerce: dashArgument,
        describe: "write to this file (complete or not at all, mode 0600) instead of stdout; '-': stdout",
      })
      .example('$0 dump save.bin.gz', 'readable dump')
      .example('$0 dump save.bin --format json -o save.json', 'JSON document for encode')
      .example('$0 dump --channel colo back.bin', "a COLO secondary's captured back channel") as unknown as Argv<DumpArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      const reader = readerOptionsFrom(args);
      const records = args.records !== undefined ? parseRecordFilter(args.records, args.dialect) : undefined;
      const source = inputSource(args.file);
      const progress = await progressFor('dump', args.file);
      const options = {
        format: args.format,
        records,
        pages: args.pages,
        machine: args.machine,
        reader,
        channel: args.channel,
        onProgress: (n: number) => progress.update(n),
      };
      // A legacy (pre-Xen-4.6) image in a file: its chunks, from the legacy reader. Decided inside the
      // output's callback, so that -o is checked before the input is opened, as for every command.
      const dumpTo = async (sink: TextSink): Promise<DumpResult | undefined> => {
        if (args.file === '-' || args.channel !== undefined || !(await isLegacyImage(source))) return dumpStream(source, sink, options);
        if (args.records !== undefined) throw new UsageError('--records selects v2 records; a legacy (pre-Xen-4.6) image has chunks: dump it whole');
        await dumpLegacy(source, sink, { format: args.format, pages: args.pages });
        return undefined;
      };
      let result: DumpResult | undefined;
      try {
        // -o -: standard output, as without -o. A file is 0600 (JSON carries page contents, all formats register values).
        result =
          args.output !== undefined && args.output !== '-'
            ? await withOutput(args.output, { inputs: [args.file === '-' ? 0 : args.file] }, (file) => dumpTo(new FileTextSink(file)))
            : await dumpTo(new WritableTextSink(process.stdout));
      } finally {
        progress.done();
      }
      for (const note of result?.notes ?? []) process.stderr.write(`stream-inspect: note: ${note}\n`);
      return EXIT_OK;
    }),
};
