/** `stream-inspect synth`: write a realistic synthetic migration stream (src/writer/synth.ts). */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { MAX_BATCH_SIZE, PAGE_SIZE } from '../../format/constants.js';
import { FileSink } from '../../writer/file-sink.js';
import { parseByteSize } from '../../writer/size.js';
import type { StreamSink } from '../../writer/sink.js';
import { checkSynthOptions, synth, type SynthOptions } from '../../writer/synth.js';
import type { GuestKind } from '../../writer/writer-automaton.js';
import { WritableSink } from '../../writer/writable-sink.js';
import { EXIT_OK, runCommand, UsageError } from '../errors.js';
import { dashArgument, integerOption } from '../options.js';
import { COMPRESS_CHOICES, outputCompression, STDOUT_PATH, type CompressChoice } from '../output-compression.js';

/** The numbers stay text until synthOptionsFromArgs checks them, so an error can quote what was typed. */
export interface SynthArgs {
  kind: GuestKind;
  pages?: string;
  size?: string;
  passes: string;
  checkpoints?: string;
  colo: boolean;
  postcopy: boolean;
  xl: boolean;
  batch: string;
  seed: string;
  vcpus: string;
  output?: string;
  compress?: CompressChoice | undefined;
  quiet: boolean;
  debug?: boolean;
}

const DEFAULT_PAGES = 4096;
/** synth's own limits (src/writer/synth.ts checks them again for library callers). */
const MAX_PAGES = 2 ** 32;
const MAX_VCPUS = 128;

function builder(y: Argv): Argv<SynthArgs> {
  return y
    .usage('$0 synth [options] [-o FILE]\n\nWrite a synthetic Xen migration stream shaped like real libxc/libxl output.')
    .option('kind', { choices: ['pv', 'hvm', 'pvh'] as const, default: 'pv' as GuestKind, describe: 'guest type' })
    .option('pages', { type: 'string', describe: `guest memory in 4 KiB pages, 1 to 2^32 (default ${DEFAULT_PAGES})` })
    .option('size', { type: 'string', describe: 'guest memory as a size (256M, 1G); picks --pages' })
    .option('passes', { type: 'string', default: '1', describe: 'precopy passes; later ones resend a shrinking subset' })
    .option('checkpoints', { type: 'string', describe: 'Remus checkpoints (COLO with --colo); no END record' })
    .option('colo', { type: 'boolean', default: false, describe: 'COLO stream (CHECKPOINT_STATE after each checkpoint); default 1 checkpoint' })
    .option('postcopy', { type: 'boolean', default: false, describe: 'postcopy live migration, RFC dialect (hvm/pvh)' })
    .option('xl', { type: 'boolean', default: false, describe: 'wrap in an xl save-file header with a JSON config' })
    .option('batch', { type: 'string', default: String(MAX_BATCH_SIZE), describe: `pfns per PAGE_DATA record (1-${MAX_BATCH_SIZE})` })
    .option('seed', { type: 'string', default: '1', describe: 'seed for page contents and dirty sets (0 to 2^32-1)' })
    .option('vcpus', { type: 'string', default: '1', describe: `vCPUs, 1-${MAX_VCPUS} (PV: one BASIC + EXTENDED record each)` })
    .option('output', { alias: 'o', type: 'string', coerce: dashArgument, describe: "output file (written atomically, mode 0600); default or '-': stdout" })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no summary on stderr' })
    .option('compress', {
      type: 'string',
      choices: COMPRESS_CHOICES,
      describe: "compress the stream (default: from -o's ending .gz .zst .xz .bz2 .lz4; stdout: none)",
    })
    .conflicts('pages', 'size') as unknown as Argv<SynthArgs>;
}

/** The synth options the command line asks for; a UsageError (exit 2) for any value or combination synth cannot make. */
export function synthOptionsFromArgs(args: SynthArgs): SynthOptions {
  let pages = args.pages === undefined ? DEFAULT_PAGES : integerOption('pages', args.pages, 1, MAX_PAGES);
  if (args.size !== undefined) {
    let bytes: number;
    try {
      bytes = parseByteSize(args.size);
    } catch (e) {
      throw new UsageError(`--size: ${(e as Error).message}`);
    }
    pages = Math.ceil(bytes / PAGE_SIZE);
    if (pages > MAX_PAGES) throw new UsageError(`--size ${args.size} is ${pages} pages: synth writes at most 2^32 pages (16 TiB)`);
  }
  const options: SynthOptions = {
    kind: args.kind,
    pages,
    passes: integerOption('passes', args.passes, 1, 2 ** 16),
    checkpoints: args.checkpoints === undefined ? (args.colo ? 1 : 0) : integerOption('checkpoints', args.checkpoints, 0, 2 ** 16),
    colo: args.colo,
    postcopy: args.postcopy,
    xl: args.xl,
    batch: integerOption('batch', args.batch, 1, MAX_BATCH_SIZE),
    seed: integerOption('seed', args.seed, 0, 2 ** 32 - 1),
    vcpus: integerOption('vcpus', args.vcpus, 1, MAX_VCPUS),
  };
  // Combinations that make no stream (postcopy of a PV guest, …): refused before any output is opened.
  try {
    checkSynthOptions(options);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
  return options;
}

async function writeSynth(args: ArgumentsCamelCase<SynthArgs>): Promise<number> {
  const options = synthOptionsFromArgs(args);
  let sink: StreamSink;
  const compress = outputCompression(args.output, args.compress);
  if (args.output !== undefined && args.output !== '-') {
    // synth hands every record fresh buffers (StreamWriter never reuses one): several may be in flight.
    sink = await FileSink.create(args.output, compress ? { compress } : {});
  } else if (compress) {
    if (process.stdout.isTTY) throw new UsageError('refusing to write a binary stream to a terminal: use -o FILE or redirect stdout');
    sink = await FileSink.create(STDOUT_PATH, { compress });
  } else {
    if (process.stdout.isTTY) throw new UsageError('refusing to write a binary stream to a terminal: use -o FILE or redirect stdout');
    sink = new WritableSink(process.stdout, { end: false });
  }
  const result = await synth(sink, options);
  if (!args.quiet) {
    const pageData = (result.records['libxc:PAGE_DATA'] ?? 0) + (result.records['libxc:POSTCOPY_PAGE_DATA'] ?? 0);
    const records = Object.values(result.records).reduce((a, b) => a + b, 0);
    process.stderr.write(
      `synth: ${result.mode} ${options.kind} stream, ${options.pages} pages, ${result.bytes} bytes, ${records} records ` +
        `(${pageData} with ${result.pagesSent} pages) -> ${args.output ?? 'stdout'}\n`,
    );
  }
  return EXIT_OK;
}

function handler(args: ArgumentsCamelCase<SynthArgs>): Promise<void> {
  return runCommand(args, () => writeSynth(args));
}

export const synthCommand: CommandModule<object, SynthArgs> = {
  command: 'synth',
  describe: 'write a realistic synthetic migration stream',
  builder,
  handler,
};
