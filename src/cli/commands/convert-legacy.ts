/** `stream-inspect convert-legacy IN -o OUT`: a legacy (pre-Xen-4.6) image as a v2 stream (src/legacy/convert-legacy.ts). */
import type { Argv, CommandModule } from 'yargs';
import { convertLegacy } from '../../legacy/convert-legacy.js';
import type { LegacyGuest, ToolstackWidth } from '../../legacy/legacy-layout.js';
import { grouped, sizeText } from '../../inspect/text-format.js';
import { FileSink } from '../../writer/file-sink.js';
import { WritableSink } from '../../writer/writable-sink.js';
import { EXIT_OK, UsageError, runCommand } from '../errors.js';
import { dashArgument, inputName, inputSource } from '../options.js';

interface ConvertLegacyArgs {
  file: string;
  output: string;
  width?: string;
  guest?: LegacyGuest;
  quiet: boolean;
  debug?: boolean;
}

export const convertLegacyCommand: CommandModule<object, ConvertLegacyArgs> = {
  command: 'convert-legacy <file>',
  describe: 'convert a legacy (pre-Xen-4.6) save image (xl, xend or bare libxc) to a v2 stream xl restore takes',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, coerce: dashArgument, describe: "legacy image (gzip is fine), or '-' for stdin" })
      .option('output', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        coerce: dashArgument,
        describe: "v2 stream (mode 0600, written under a temporary name, renamed when complete), or '-' for stdout",
      })
      .option('width', { choices: ['32', '64'], describe: 'bitness of the toolstack that saved it, only when the image does not tell' })
      .option('guest', { choices: ['pv', 'hvm'] as const, describe: 'guest type, only when the image does not tell' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no summary' })
      .example('$0 convert-legacy old-save.bin -o new-save.bin', 'an xl save file from Xen 4.5 or older, for xl restore') as unknown as Argv<ConvertLegacyArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      if (args.output === '-' && process.stdout.isTTY)
        throw new UsageError('convert-legacy: refusing to write a binary stream to a terminal (use -o FILE or redirect stdout)');
      const source = inputSource(args.file);
      const sink =
        args.output === '-'
          ? new WritableSink(process.stdout, { end: false })
          : await FileSink.create(args.output, { inputs: [args.file === '-' ? 0 : args.file] });
      const r = await convertLegacy(source, sink, {
        ...(args.width !== undefined ? { width: Number(args.width) as ToolstackWidth } : {}),
        ...(args.guest !== undefined ? { guest: args.guest } : {}),
      });
      if (!args.quiet) {
        const records = Object.values(r.records).reduce((a, b) => a + b, 0);
        const told = (what: boolean) => (what ? 'from the image' : 'as given');
        process.stderr.write(
          `${args.output === '-' ? '(stdout)' : args.output}: v2 ${r.guest} stream, ${sizeText(r.bytes)}, ${grouped(records)} records, ${grouped(r.pages)} pages ` +
            `from ${inputName(args.file)} (legacy ${r.container} image; guest type ${told(r.inferred.guest)}, ${r.width}-bit toolstack ${told(r.inferred.width)})\n`,
        );
        for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
      }
      return EXIT_OK;
    }),
};
