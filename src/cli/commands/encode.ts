/** `stream-inspect encode FILE.json -o out.bin`: the JSON form (from dump --format json) back to bytes. */
import type { Argv, CommandModule } from 'yargs';
import { FileByteSink, WritableByteSink } from '../../inspect/byte-sink.js';
import { encodeJsonStream, jsonInputBytes } from '../../inspect/encode.js';
import { JSON_ITEM_MAX } from '../../inspect/json-items.js';
import { AtomicOutput } from '../../io/atomic-output.js';
import { EXIT_OK, runCommand, UsageError } from '../errors.js';
import { checkNotDirectory, withCommonOptions, type CommonArgs, dashArgument } from '../options.js';
import { outputCompression, STDOUT_PATH, withCompressOption, type CompressArgs } from '../output-compression.js';

interface EncodeArgs extends CommonArgs, CompressArgs {
  file: string;
  output: string;
  maxItemJson: number;
}

export const encodeCommand: CommandModule<object, EncodeArgs> = {
  command: 'encode <file>',
  describe: 'turn a JSON document (dump --format json) back into the binary stream, byte for byte',
  builder: (y: Argv) =>
    withCompressOption(withCommonOptions(y))
      .positional('file', { type: 'string', demandOption: true, coerce: dashArgument, describe: "JSON document (gzip ok), or '-' for stdin" })
      .option('output', { alias: 'o', type: 'string', demandOption: true, coerce: dashArgument, describe: "binary stream to write ('-': stdout)" })
      .option('max-item-json', {
        type: 'number',
        default: JSON_ITEM_MAX,
        describe: 'refuse an item whose JSON text is longer than this many bytes (the document is read item by item)',
      })
      .example('$0 dump save.bin -f json | $0 encode - -o copy.bin', 'round trip') as unknown as Argv<EncodeArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      if (args.file === '-' && process.stdin.isTTY) throw new UsageError("'-' reads the JSON from standard input, which is a terminal");
      if (args.file !== '-') checkNotDirectory(args.file);
      if (!Number.isSafeInteger(args.maxItemJson) || args.maxItemJson <= 0) throw new UsageError('--max-item-json: expected a positive number of bytes');
      if (args.output === '-' && process.stdout.isTTY) throw new UsageError('encode: refusing to write a binary stream to a terminal (use -o FILE)');
      // Opened (and checked) before the input is read; 0600: the stream holds guest memory.
      const compress = outputCompression(args.output, args.compress);
      const inputs = [args.file === '-' ? 0 : args.file];
      const file = args.output !== '-' || compress ? await AtomicOutput.open(args.output === '-' ? STDOUT_PATH : args.output, { inputs, compress }) : undefined;
      const options = { maxItemBytes: args.maxItemJson };
      try {
        const input = jsonInputBytes(args.file === '-' ? process.stdin : args.file);
        if (file) {
          await encodeJsonStream(input, new FileByteSink(file), options);
          await file.commit();
        } else {
          await encodeJsonStream(input, new WritableByteSink(process.stdout), options);
        }
      } catch (e) {
        await file?.discard();
        throw e;
      }
      return EXIT_OK;
    }),
};
