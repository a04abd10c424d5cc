/**
 * `stream-inspect extract FILE -o mem.raw`: the guest memory as a sparse raw image, plus blobs;
 * `--format elf|lime`: the memory as an ELF core or a LiME file instead.
 */
import type { Argv, CommandModule } from 'yargs';
import { extractStream } from '../../inspect/extract.js';
import { exportMemory, type MemoryExportFormat } from '../../inspect/export/export-memory.js';
import { grouped, sizeText } from '../../inspect/text-format.js';
import { parseByteSize } from '../../writer/size.js';
import { EXIT_OK, UsageError, runCommand } from '../errors.js';
import { inputSource, readerOptionsFrom, withCommonOptions, type CommonArgs, dashArgument, STREAM_FILE_ARGUMENT } from '../options.js';
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
  format: 'raw' | MemoryExportFormat;
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
      .positional('file', STREAM_FILE_ARGUMENT)
      .option('output', {
        alias: 'o',
        type: 'string',
        coerce: dashArgument,
        describe: 'raw memory image to write (mode 0600; a regular file: the image is written at page offsets, so not -o -)',
      })
      .option('format', {
        type: 'string',
        choices: ['raw', 'elf', 'lime'] as const,
        default: 'raw' as const,
        describe: 'memory output: raw (page of pfn p at byte p×4096), elf (x86-64 ELF core: PT_LOAD per run of pfns, vCPU registers) or lime (LiME ranges)',
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
      .example('$0 extract save.bin.gz --format elf -o guest.core', 'ELF core for gdb, crash, Volatility')
      .example('$0 extract hvm.bin --emulator-context qemu.state --config guest.json', 'the blobs only') as unknown as Argv<ExtractArgs>,
  handler: (args) =>
    runCommand(args, async () => {
      if (args.format !== 'raw') return exportFormat(args);
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

/** --format elf|lime: the memory export (plus the blobs, by a walk of their own, if asked for). */
async function exportFormat(args: ExtractArgs): Promise<number> {
  if (args.output === undefined) throw new UsageError(`--format ${args.format}: give the output file with -o`);
  const format = args.format as MemoryExportFormat;
  const progress = await progressFor('extract', args.file);
  let r: Awaited<ReturnType<typeof exportMemory>>;
  try {
    r = await exportMemory(inputSource(args.file), args.output, {
      format,
      reader: readerOptionsFrom(args),
      spillDir: args.spillDir,
      onProgress: (n) => progress.update(n),
    });
  } finally {
    progress.done();
  }
  const what = format === 'elf' ? `ELF core, ${grouped(r.ranges)} PT_LOAD segments` : `LiME, ${grouped(r.ranges)} ranges`;
  const vcpus = format === 'elf' ? `, ${r.facts.vcpus.filter((v) => v.registers).length} vCPU register sets` : '';
  let line = `${args.output}: ${what}, ${grouped(r.pages)} pages of data${vcpus}, ${sizeText(r.fileBytes)}`;
  if (r.facts.checkpoint !== undefined)
    line += `, state of checkpoint ${r.facts.checkpoint}${r.rolledBackPfns ? ` (${grouped(r.rolledBackPfns)} pfn updates of the incomplete checkpoint after it rolled back)` : ''}`;
  process.stdout.write(`${line}\n`);
  for (const p of r.problems) process.stderr.write(`${p.severity}: ${p.message}\n`);
  if (args.emulatorContext !== undefined || args.config !== undefined) {
    const b = await extractStream(inputSource(args.file), { reader: readerOptionsFrom(args), emulatorContext: args.emulatorContext, config: args.config });
    if (args.emulatorContext) process.stdout.write(`${args.emulatorContext}: emulator context, ${grouped(b.emulatorContextBytes ?? 0)} bytes\n`);
    if (args.config) process.stdout.write(`${args.config}: xl config, ${grouped(b.configBytes ?? 0)} bytes\n`);
  }
  return EXIT_OK;
}
