/** `stream-inspect compat A B`: can the guest saved in A be restored where B was saved? exit 0 yes, 1 no or cannot tell, 2 error. */
import type { Argv, CommandModule } from 'yargs';
import { compatibility, compatJson, renderCompatText, saveFacts } from '../../inspect/compat.js';
import { EXIT_INVALID, EXIT_OK, runCommand, UsageError } from '../errors.js';
import { inputName, inputSource, readerOptionsFrom, withCommonOptions, type CommonArgs, dashArgument } from '../options.js';

interface CompatArgs extends CommonArgs {
  a: string;
  b: string;
  json: boolean;
}

export const compatCommand: CommandModule<object, CompatArgs> = {
  command: 'compat <a> <b>',
  describe: "can the guest saved in A be restored on B's host? (Xen versions, CPUID/MSR policies)",
  builder: (y: Argv) =>
    withCommonOptions(y)
      .positional('a', { type: 'string', demandOption: true, coerce: dashArgument, describe: "the save to restore ('-': stdin)" })
      .positional('b', { type: 'string', demandOption: true, coerce: dashArgument, describe: 'a save made on the host to restore on' })
      .option('json', { type: 'boolean', default: false, describe: 'print the findings as JSON' })
      .example('$0 compat guest.save other-host.save', 'exit 0 when nothing the saves tell stands against it') as unknown as Argv<CompatArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      if (args.a === '-' && args.b === '-') throw new UsageError('compat: only one input can be standard input');
      const options = { reader: readerOptionsFrom(args) };
      const r = compatibility(await saveFacts(inputSource(args.a), options), await saveFacts(inputSource(args.b), options));
      process.stdout.write(args.json ? `${JSON.stringify(compatJson(r), null, 2)}\n` : renderCompatText(inputName(args.a), inputName(args.b), r));
      return r.verdict === 'yes' ? EXIT_OK : EXIT_INVALID;
    }),
};
