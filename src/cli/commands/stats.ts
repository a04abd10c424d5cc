/** `stream-inspect stats FILE`: records and bytes per type, passes, pfns, page types, checkpoints. */
import type { Argv, CommandModule } from 'yargs';
import { problemJson } from '../../inspect/dump-json.js';
import { renderStatsText, streamStats } from '../../inspect/stats.js';
import { EXIT_OK, runCommand } from '../errors.js';
import { inputSource, readerOptionsFrom, withCommonOptions, type CommonArgs, STREAM_FILE_ARGUMENT } from '../options.js';
import { progressFor } from '../progress.js';

interface StatsArgs extends CommonArgs {
  file: string;
  json: boolean;
}

export const statsCommand: CommandModule<object, StatsArgs> = {
  command: 'stats <file>',
  describe: 'summary: records and bytes per type, pages per pass, resent pfns, pfn range, page types, checkpoints',
  builder: (y: Argv) =>
    withCommonOptions(y)
      .positional('file', STREAM_FILE_ARGUMENT)
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
      .example('$0 stats save.bin.gz --json', 'machine-readable summary') as unknown as Argv<StatsArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      const progress = await progressFor('stats', args.file);
      let result: Awaited<ReturnType<typeof streamStats>>;
      try {
        result = await streamStats(inputSource(args.file), { reader: readerOptionsFrom(args), onProgress: (n) => progress.update(n) });
      } finally {
        progress.done();
      }
      if (args.json) process.stdout.write(`${JSON.stringify({ ...result.summary, problems: result.problems.map(problemJson) }, null, 2)}\n`);
      else {
        process.stdout.write(renderStatsText(result.summary));
        for (const p of result.problems) process.stdout.write(`${p.severity}: ${p.message}\n`);
      }
      return EXIT_OK;
    }),
};
