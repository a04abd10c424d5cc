/** `stream-inspect extract FILE -o mem.raw`: the guest memory as a sparse raw image, plus blobs. */
import type { Argv, CommandModule } from 'yargs';
import { extractStream } from '../../inspect/extract.js';
import { grouped, sizeText } from '../../inspect/text-format.js';
import { parseByteSize } from '../../writer/size.js';
import { EXIT_OK, UsageError, runCommand } from '../errors.js';
import { inputSource, readerOptionsFrom, withCommonOptions, type CommonArgs, dashArgument } from '../options.js';
import { progressFor } from '../progress.js';
import { COMPRESS_CHOICES, outputCompression, type CompressChoice } from '../output-compression.js';

interface ExtractArgs extends CommonArgs {
  file: string;
  output?: string;
  emulatorContext?: string;
  config?: string;
  stream?: string;
  compress?: CompressChoice;
  spillDir?: string;
  maxImageSize: number;
}

/** --max-image-size: a size (1T, 64G, 4096…), at most what a file offset can be here (2^53 − 1). */
function imageSizeLimit(text: unknown): number {
  let bytes: number;
  try {
    bytes = parseByteSize(String(text));
  } catch (e) {
    throw new UsageError(`--max-image-size: ${(e as Error).message}`);
  }
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`--max-image-size: ${String(text)} is more than the largest file offset (2^53 − 1 bytes)`);
  return bytes;
}

export const extractCommand: CommandModule<object, ExtractArgs> = {
  command: 'extract <file>',
  describe: 'write the guest memory (page of pfn p at byte p×4096; last copy wins; sparse) and/or the emulator context and xl config',
  builder: (y: Argv) =>
    withCommonOptions(y)
      .positional('file', { type: 'string', demandOption: true, coerce: dashArgument, describe: "stream, or '-' for stdin" })
      .option('output', {
        alias: 'o',
        type: 'string',
        coerce: dashArgument,
        describe: 'raw memory image to write (mode 0600; a regular file: the image is written at page offsets, so not -o -)',
      })
      .option('emulator-context', { type: 'string', coerce: dashArgument, describe: "write the EMULATOR_CONTEXT blob (e.g. QEMU's device state) here" })
      .option('config', { type: 'string', coerce: dashArgument, describe: "write the xl config (JSON) here (a libvirt save image's domain XML)" })
      .option('stream', {
        type: 'string',
        coerce: dashArgument,
        describe: 'write the migration stream without its libvirt/XenServer wrapper here (what xl restore reads; .zst etc. compress it)',
      })
      .option('compress', { type: 'string', choices: COMPRESS_CHOICES, describe: "compress --stream (default: from its name's ending)" })
      .option('spill-dir', { type: 'string', describe: "directory for the checkpoint undo log (default: the image's directory)" })
      .option('max-image-size', {
        type: 'string',
        default: '1T',
        coerce: imageSizeLimit,
        describe: 'refuse pfns that would make the (sparse) image bigger than this',
      })
      .example('$0 extract save.bin.gz -o mem.raw', 'memory image')
      .example('$0 extract hvm.bin --emulator-context qemu.state --config guest.json', 'the blobs only') as unknown as Argv<ExtractArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      const progress = await progressFor('extract', args.file);
      let r: Awaited<ReturnType<typeof extractStream>>;
      try {
        r = await extractStream(inputSource(args.file), {
          reader: readerOptionsFrom(args),
          memory: args.output,
          emulatorContext: args.emulatorContext,
          config: args.config,
          stream: args.stream,
          streamCompress: outputCompression(args.stream, args.compress),
          spillDir: args.spillDir,
          maxImageBytes: args.maxImageSize,
          onProgress: (n) => progress.update(n),
        });
      } finally {
        progress.done();
      }
      if (args.output) {
        let line = `${args.output}: ${grouped(r.pages)} pages of data, image size ${sizeText(r.imageBytes)}`;
        if (r.checkpoint !== undefined)
          line += `, state of checkpoint ${r.checkpoint}${r.rolledBackPfns ? ` (${grouped(r.rolledBackPfns)} pfns of the incomplete checkpoint after it rolled back)` : ''}`;
        process.stdout.write(`${line}\n`);
      }
      if (args.emulatorContext) process.stdout.write(`${args.emulatorContext}: emulator context, ${grouped(r.emulatorContextBytes ?? 0)} bytes\n`);
      if (args.config) process.stdout.write(`${args.config}: xl config, ${grouped(r.configBytes ?? 0)} bytes\n`);
      if (args.stream) process.stdout.write(`${args.stream}: the migration stream, ${grouped(r.streamBytes ?? 0)} bytes\n`);
      for (const p of r.problems) process.stderr.write(`${p.severity}: ${p.message}\n`);
      return EXIT_OK;
    }),
};
