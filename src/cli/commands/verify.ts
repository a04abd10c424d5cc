/** `stream-inspect verify FILE`: exit 0 valid, 1 invalid stream, 2 usage or I/O error. */
import type { Argv, CommandModule } from 'yargs';
import { renderVerifyText, verifyJson, verifyStream } from '../../inspect/verify.js';
import { EXIT_INVALID, EXIT_OK, runCommand } from '../errors.js';
import { inputName, inputSource, readerOptionsFrom, withCommonOptions, type CommonArgs, STREAM_FILE_ARGUMENT } from '../options.js';
import { progressFor } from '../progress.js';

interface VerifyArgs extends CommonArgs {
  file: string;
  json: boolean;
  deep: boolean;
}

export const verifyCommand: CommandModule<object, VerifyArgs> = {
  command: 'verify <file>',
  describe: 'check the whole stream; one line per problem; exit 0 valid, 1 invalid, 2 usage/I/O error',
  builder: (y: Argv) =>
    withCommonOptions(y)
      .positional('file', STREAM_FILE_ARGUMENT)
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .option('deep', {
        type: 'boolean',
        default: false,
        describe: "read every byte, page contents too (by default a file's page contents are stepped over: only the VERIFY re-send comparison looks at them)",
      })
      .example('$0 verify save.bin.gz', "strict check (like Xen's verify-stream-v2)")
      .example('$0 verify --lenient capture.bin', "what Xen's C reader accepts") as unknown as Argv<VerifyArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      const source = inputSource(args.file);
      const progress = await progressFor('verify', args.file);
      let result: Awaited<ReturnType<typeof verifyStream>>;
      try {
        const reader = { ...readerOptionsFrom(args), pageContents: args.deep ? 'read' : 'skip' } as const;
        result = await verifyStream(source, { reader, onProgress: (n) => progress.update(n) });
      } finally {
        progress.done();
      }
      process.stdout.write(
        args.json ? `${JSON.stringify(verifyJson(inputName(args.file), result), null, 2)}\n` : renderVerifyText(inputName(args.file), result),
      );
      return result.status === 'valid' ? EXIT_OK : EXIT_INVALID;
    }),
};
