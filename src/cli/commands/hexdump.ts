/**
 * `stream-inspect hexdump FILE --record N | --offset X`: one header or record in hex, parts marked;
 * `--paddr ADDR [--length N]`: guest-physical bytes, read in place through the physical-address view.
 */
import type { Argv, CommandModule } from 'yargs';
import { hexdumpItem, type HexdumpTarget } from '../../inspect/hexdump.js';
import { DEFAULT_PADDR_LENGTH, hexdumpPhysical } from '../../inspect/paddr-hexdump.js';
import { parseNonNegativeInteger } from '../../inspect/text-format.js';
import { EXIT_OK, runCommand, UsageError } from '../errors.js';
import { inputSource, readerOptionsFrom, withCommonOptions, type CommonArgs, STREAM_FILE_ARGUMENT } from '../options.js';

interface HexdumpArgs extends CommonArgs {
  file: string;
  record?: string;
  offset?: string;
  paddr?: string;
  length?: string;
  spillDir?: string;
  maxBytes: string;
}

/** The bytes of --paddr are held in memory and printed as text: 16 MiB is plenty for a look. */
const MAX_PADDR_LENGTH = 16 << 20;

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
      .positional('file', STREAM_FILE_ARGUMENT)
      .option('record', { alias: 'n', type: 'string', describe: 'record index (as dump shows it: #N)' })
      .option('offset', { type: 'string', describe: 'byte offset in the (decompressed) stream, decimal or 0x hex' })
      .option('paddr', { type: 'string', describe: 'guest physical address (decimal or 0x hex): show the memory there (last copy of each page)' })
      .option('length', { type: 'string', describe: `with --paddr: bytes shown (default ${DEFAULT_PADDR_LENGTH})` })
      .option('spill-dir', {
        type: 'string',
        describe: 'with --paddr: where a gzip or piped input is decompressed for positional reads (default: the temp dir)',
      })
      .option('max-bytes', { type: 'string', default: '4096', describe: 'body bytes shown at most (0: all)' })
      .example('$0 hexdump save.bin --record 5', 'record #5')
      .example('$0 hexdump save.bin --offset 0x3a2', 'whatever holds offset 0x3a2')
      .example('$0 hexdump save.bin --paddr 0x1000000 --length 64', 'guest memory at physical 0x1000000') as unknown as Argv<HexdumpArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      const targets = [args.record, args.offset, args.paddr].filter((t) => t !== undefined).length;
      if (targets !== 1) throw new UsageError('hexdump: give exactly one of --record N, --offset X or --paddr ADDR');
      if (args.paddr === undefined && (args.length !== undefined || args.spillDir !== undefined))
        throw new UsageError('hexdump: --length and --spill-dir go with --paddr');
      if (args.paddr !== undefined) {
        const length = args.length === undefined ? DEFAULT_PADDR_LENGTH : numberOption('length', args.length);
        if (length > MAX_PADDR_LENGTH) throw new UsageError(`--length: at most ${MAX_PADDR_LENGTH} bytes (16 MiB) at a time, got ${length}`);
        const text = await hexdumpPhysical(inputSource(args.file), numberOption('paddr', args.paddr), length, {
          reader: readerOptionsFrom(args),
          spoolDir: args.spillDir,
        });
        process.stdout.write(text);
        return EXIT_OK;
      }
      const target: HexdumpTarget =
        args.record !== undefined ? { record: numberOption('record', args.record) } : { offset: numberOption('offset', args.offset as string) };
      const text = await hexdumpItem(inputSource(args.file), target, { reader: readerOptionsFrom(args), maxBytes: numberOption('max-bytes', args.maxBytes) });
      process.stdout.write(text);
      return EXIT_OK;
    }),
};
