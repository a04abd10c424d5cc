/** `stream-inspect encode FILE.json -o out.bin`: the JSON form (from dump --format json) back to bytes. */
import type { Argv, CommandModule } from 'yargs';
import { FileByteSink, WritableByteSink } from '../../inspect/byte-sink.js';
import { encodeJsonDocument, parseJsonText, readJsonText } from '../../inspect/encode.js';
import { AtomicOutput } from '../../io/atomic-output.js';
import { EXIT_OK, runCommand, UsageError } from '../errors.js';
import { checkNotDirectory, withCommonOptions, type CommonArgs, dashArgument, outputArgument } from '../options.js';

interface EncodeArgs extends CommonArgs {
  file: string;
  output: string;
}

export const encodeCommand: CommandModule<object, EncodeArgs> = {
  command: 'encode <file>',
  describe: 'turn a JSON document (dump --format json) back into the binary stream, byte for byte',
  builder: (y: Argv) =>
    withCommonOptions(y)
      .positional('file', { type: 'string', demandOption: true, coerce: dashArgument, describe: "JSON document (gzip ok), or '-' for stdin" })
      .option('output', { alias: 'o', type: 'string', demandOption: true, coerce: outputArgument, describe: "binary stream to write ('-': stdout)" })
      .example('$0 dump save.bin -f json | $0 encode - -o copy.bin', 'round trip') as unknown as Argv<EncodeArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      if (args.file === '-' && process.stdin.isTTY) throw new UsageError("'-' reads the JSON from standard input, which is a terminal");
      if (args.file !== '-') checkNotDirectory(args.file);
      if (args.output === '-' && process.stdout.isTTY) throw new UsageError('encode: refusing to write a binary stream to a terminal (use -o FILE)');
      // Opened (and checked) before the input is read; 0600: the stream holds guest memory.
      const file = args.output === '-' ? undefined : await AtomicOutput.open(args.output, { inputs: [args.file === '-' ? 0 : args.file] });
      try {
        const value = parseJsonText(await readJsonText(args.file === '-' ? process.stdin : args.file));
        if (file) {
          await encodeJsonDocument(value, new FileByteSink(file));
          await file.commit();
        } else {
          await encodeJsonDocument(value, new WritableByteSink(process.stdout));
        }
      } catch (e) {
        await file?.discard();
        throw e;
      }
      return EXIT_OK;
    }),
};
