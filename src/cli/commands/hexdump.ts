/** `stream-inspect hexdump FILE --record N | --offset X`: one header or record in hex, parts marked. */
import type { Argv, CommandModule } from 'yargs';
import { hexdumpItem, type HexdumpTarget } from '../../inspect/hexdump.js';
import { parseNonNegativeInteger } from '../../inspect/text-format.js';
import { EXIT_OK, runCommand, UsageError } from '../errors.js';
import { inputSource, readerOptionsFrom, withCommonOptions, type CommonArgs, dashArgument } from '../options.js';

interface HexdumpArgs extends CommonArgs {
  file: string;
  record?: string;
  offset?: string;
  maxBytes: string;
}

function numberOption(name: string, value: string): number {
  const n = parseNonNegativeInteger(value);
  if (n === undefined) throw new UsageError(`--${name}: expected a non-negative integer (decimal or 0x hex), got "${value}"`);
  return n;
}

export const hexdumpCommand: CommandModule<object, HexdumpArgs> = {
  command: 'hexdump <file>',
  describe: 'hex dump of record N (or of the header/record holding an offset) with absolute offsets',
  builder: (y: Argv) =>
    withCommonOptions(y)
      .positional('file', { type: 'string', demandOption: true, coerce: dashArgument, describe: "stream, or '-' for stdin" })
      .option('record', { alias: 'n', type: 'string', describe: 'record index (as dump shows it: #N)' })
      .option('offset', { type: 'string', describe: 'byte offset in the (decompressed) stream, decimal or 0x hex' })
      .option('max-bytes', { type: 'string', default: '4096', describe: 'body bytes shown at most (0: all)' })
      .example('$0 hexdump save.bin --record 5', 'record #5')
      .example('$0 hexdump save.bin --offset 0x3a2', 'whatever holds offset 0x3a2') as unknown as Argv<HexdumpArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      if ((args.record === undefined) === (args.offset === undefined)) throw new UsageError('hexdump: give exactly one of --record N or --offset X');
      const target: HexdumpTarget =
        args.record !== undefined ? { record: numberOption('record', args.record) } : { offset: numberOption('offset', args.offset as string) };
      const text = await hexdumpItem(inputSource(args.file), target, { reader: readerOptionsFrom(args), maxBytes: numberOption('max-bytes', args.maxBytes) });
      process.stdout.write(text);
      return EXIT_OK;
    }),
};
