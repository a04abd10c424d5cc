/** `stream-inspect synth`: write a realistic synthetic migration stream (src/writer/synth.ts). */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { PAGE_SIZE } from '../../format/constants.js';
import { FileSink } from '../../writer/file-sink.js';
import { parseByteSize } from '../../writer/size.js';
import type { StreamSink } from '../../writer/sink.js';
import { checkSynthOptions, synth, type SynthOptions } from '../../writer/synth.js';
import type { GuestKind } from '../../writer/writer-automaton.js';
import { WritableSink } from '../../writer/writable-sink.js';

export interface SynthArgs {
  kind: GuestKind;
  pages?: number;
  size?: string;
  passes: number;
  checkpoints?: number;
  colo: boolean;
  postcopy: boolean;
  xl: boolean;
  batch: number;
  seed: number;
  vcpus: number;
  output?: string;
  quiet: boolean;
}

const DEFAULT_PAGES = 4096;

function builder(y: Argv): Argv<SynthArgs> {
  return y
    .usage('$0 synth [options] [-o FILE]\n\nWrite a synthetic Xen migration stream shaped like real libxc/libxl output.')
    .option('kind', { choices: ['pv', 'hvm', 'pvh'] as const, default: 'pv' as GuestKind, describe: 'guest type' })
    .option('pages', { type: 'number', describe: `guest memory in 4 KiB pages (default ${DEFAULT_PAGES})` })
    .option('size', { type: 'string', describe: 'guest memory as a size (256M, 1G); picks --pages' })
    .option('passes', { type: 'number', default: 1, describe: 'precopy passes; later ones resend a shrinking subset' })
    .option('checkpoints', { type: 'number', describe: 'Remus checkpoints (COLO with --colo); no END record' })
    .option('colo', { type: 'boolean', default: false, describe: 'COLO stream (CHECKPOINT_STATE after each checkpoint); default 1 checkpoint' })
    .option('postcopy', { type: 'boolean', default: false, describe: 'postcopy live migration, RFC dialect (hvm/pvh)' })
    .option('xl', { type: 'boolean', default: false, describe: 'wrap in an xl save-file header with a JSON config' })
    .option('batch', { type: 'number', default: 1024, describe: 'pfns per PAGE_DATA record (1-1024)' })
    .option('seed', { type: 'number', default: 1, describe: 'seed for page contents and dirty sets' })
    .option('vcpus', { type: 'number', default: 1, describe: 'vCPUs (PV: one BASIC + EXTENDED record each)' })
    .option('output', { alias: 'o', type: 'string', describe: 'output file (written atomically); default stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no summary on stderr' })
    .conflicts('pages', 'size') as unknown as Argv<SynthArgs>;
}

/** The synth options the command line asks for. */
export function synthOptionsFromArgs(args: SynthArgs): SynthOptions {
  let pages = args.pages ?? DEFAULT_PAGES;
  if (args.size !== undefined) {
    const bytes = parseByteSize(args.size);
    pages = Math.ceil(bytes / PAGE_SIZE);
  }
  const options: SynthOptions = {
    kind: args.kind,
    pages,
    passes: args.passes,
    checkpoints: args.checkpoints ?? (args.colo ? 1 : 0),
    colo: args.colo,
    postcopy: args.postcopy,
    xl: args.xl,
    batch: args.batch,
    seed: args.seed,
    vcpus: args.vcpus,
  };
  checkSynthOptions(options); // refuse impossible combinations before opening the output
  return options;
}

async function handler(args: ArgumentsCamelCase<SynthArgs>): Promise<void> {
  const options = synthOptionsFromArgs(args);
  let sink: StreamSink;
  if (args.output !== undefined && args.output !== '-') {
    // synth hands every record fresh buffers (StreamWriter never reuses one): several may be in flight.
    sink = await FileSink.create(args.output, { inFlight: 2 });
  } else {
    if (process.stdout.isTTY) throw new Error('refusing to write a binary stream to a terminal: use -o FILE or redirect stdout');
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
}

export const synthCommand: CommandModule<object, SynthArgs> = {
  command: 'synth',
  describe: 'write a realistic synthetic migration stream',
  builder,
  handler,
};
