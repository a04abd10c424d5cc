/** `stream-inspect diff A B`: record-by-record and page-by-page; exit 0 same, 1 different, 2 error. */
import type { Argv, CommandModule } from 'yargs';
import { diffStreams } from '../../inspect/diff.js';
import { diffJson, renderDiffText } from '../../inspect/diff-text.js';
import { parseNonNegativeInteger } from '../../inspect/text-format.js';
import { EXIT_INVALID, EXIT_OK, runCommand, UsageError } from '../errors.js';
import { inputName, inputSource, readerOptionsFrom, withCommonOptions, type CommonArgs, dashArgument } from '../options.js';
import { progressFor } from '../progress.js';

interface DiffArgs extends CommonArgs {
  a: string;
  b: string;
  json: boolean;
  maxListed: string;
}

export const diffCommand: CommandModule<object, DiffArgs> = {
  command: 'diff <a> <b>',
  describe: 'compare two streams by meaning: records paired by identity, field-level differences, pages that differ as runs of pfns',
  builder: (y: Argv) =>
    withCommonOptions(y)
      .positional('a', { type: 'string', demandOption: true, coerce: dashArgument, describe: "first stream ('-': stdin)" })
      .positional('b', { type: 'string', demandOption: true, coerce: dashArgument, describe: 'second stream' })
      .option('json', { type: 'boolean', default: false, describe: 'print the differences as JSON' })
      .option('max-listed', { type: 'string', default: '20', describe: 'differences listed at most, per kind' })
      .example('$0 diff save.bin copy.bin', 'exit 0 when they are the same') as unknown as Argv<DiffArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      if (args.a === '-' && args.b === '-') throw new UsageError('diff: only one input can be standard input');
      const maxListed = parseNonNegativeInteger(args.maxListed);
      if (maxListed === undefined) throw new UsageError(`--max-listed: expected a number, got "${args.maxListed}"`);
      const progress = await progressFor('diff', args.a);
      let r: Awaited<ReturnType<typeof diffStreams>>;
      try {
        r = await diffStreams(inputSource(args.a), inputSource(args.b), { reader: readerOptionsFrom(args), maxListed, onProgress: (n) => progress.update(n) });
      } finally {
        progress.done();
      }
      process.stdout.write(args.json ? `${JSON.stringify(diffJson(r), null, 2)}\n` : renderDiffText(inputName(args.a), inputName(args.b), r));
      return r.same ? EXIT_OK : EXIT_INVALID;
    }),
};
