/**
 * The CLIs' start-up fast path (src/cli/plain-command-line.ts) must hand a
 * command's handler exactly what yargs would, and leave to yargs every line
 * it does not model. Each case is parsed both ways, with the real command
 * modules.
 */
import { describe, expect, it } from 'vitest';
import yargs, { type CommandModule } from 'yargs';
import { parsePlainCommandLine } from '../src/cli/plain-command-line.js';
import { verifyCommand } from '../src/cli/commands/verify.js';
import { dumpCommand } from '../src/cli/commands/dump.js';
import { diffCommand } from '../src/cli/commands/diff.js';
import { encodeCommand } from '../src/cli/commands/encode.js';
import { hexdumpCommand } from '../src/cli/commands/hexdump.js';
import { extractCommand } from '../src/cli/commands/extract.js';
import { synthCommand } from '../src/cli/commands/synth.js';

type AnyCommand = CommandModule<object, never>;
const DEBUG = { type: 'boolean', default: false, describe: 'show stack traces on errors' } as const;

/** What yargs gives the handler of `command` for `argv` (as stream-inspect configures it), or the error it fails with. */
async function viaYargs(command: AnyCommand, argv: string[]): Promise<Record<string, unknown> | Error> {
  let got: Record<string, unknown> | undefined;
  try {
    await yargs(argv)
      .scriptName('stream-inspect')
      .option('debug', DEBUG)
      .strict()
      .exitProcess(false)
      .fail((message, error) => {
        throw error ?? new Error(message);
      })
      .command({
        ...command,
        handler: (args: Record<string, unknown>) => {
          got = { ...args };
        },
      } as unknown as AnyCommand)
      .parseAsync();
  } catch (e) {
    return e as Error;
  }
  return got ?? new Error('no handler ran');
}

function viaPlain(command: AnyCommand, argv: string[]): Record<string, unknown> | undefined {
  const name = String(command.command).split(' ')[0];
  return parsePlainCommandLine(argv, { name, command: command.command as string, builder: command.builder }, 'stream-inspect', { debug: DEBUG });
}

const ACCEPTED: Array<[AnyCommand, string[]]> = [
  [verifyCommand as unknown as AnyCommand, ['verify', 'save.bin']],
  [verifyCommand as unknown as AnyCommand, ['verify', '-']],
  [verifyCommand as unknown as AnyCommand, ['verify', '--json', 'save.bin', '--deep', '--lenient']],
  [verifyCommand as unknown as AnyCommand, ['verify', 'save.bin', '--dialect', 'postcopy-rfc', '--mode=colo', '--debug']],
  [dumpCommand as unknown as AnyCommand, ['dump', 'save.bin', '-f', 'ndjson', '-o', 'out.ndjson']],
  [dumpCommand as unknown as AnyCommand, ['dump', 'save.bin', '--format=json', '--records', 'PAGE_DATA']],
  [diffCommand as unknown as AnyCommand, ['diff', 'a.bin', 'b.bin']],
  [encodeCommand as unknown as AnyCommand, ['encode', 'in.json', '-o', 'out.bin', '--max-item-json', '4096']],
  [hexdumpCommand as unknown as AnyCommand, ['hexdump', 'save.bin', '--record', '5']],
  [extractCommand as unknown as AnyCommand, ['extract', 'save.bin', '-o', 'mem.raw']],
  [synthCommand as unknown as AnyCommand, ['synth', '--kind', 'pv', '--xl', '--size', '1G', '-o', 'out.xl', '-q']],
  [synthCommand as unknown as AnyCommand, ['synth', '--pages', '16', '-o', 'out.xl']],
];

/** Lines the fast path must not take: yargs reports them, or reads them its own way. */
const LEFT_TO_YARGS: Array<[AnyCommand, string[]]> = [
  [verifyCommand as unknown as AnyCommand, ['verify']],
  [verifyCommand as unknown as AnyCommand, ['verify', 'a', 'b']],
  [verifyCommand as unknown as AnyCommand, ['verify', 'save.bin', '--help']],
  [verifyCommand as unknown as AnyCommand, ['verify', 'save.bin', '--version']],
  [verifyCommand as unknown as AnyCommand, ['verify', 'save.bin', '--bogus']],
  [verifyCommand as unknown as AnyCommand, ['verify', 'save.bin', '--json', '--json']],
  [verifyCommand as unknown as AnyCommand, ['verify', 'save.bin', '--no-json']],
  [verifyCommand as unknown as AnyCommand, ['verify', 'save.bin', '--json=false']],
  [verifyCommand as unknown as AnyCommand, ['verify', 'save.bin', '--dialect', 'nope']],
  [verifyCommand as unknown as AnyCommand, ['verify', 'save.bin', '--dialect']],
  [verifyCommand as unknown as AnyCommand, ['verify', '--', 'save.bin']],
  [verifyCommand as unknown as AnyCommand, ['--debug', 'verify', 'save.bin']],
  [dumpCommand as unknown as AnyCommand, ['dump', 'save.bin', '-o', '-']],
  [encodeCommand as unknown as AnyCommand, ['encode', 'in.json']],
  [encodeCommand as unknown as AnyCommand, ['encode', 'in.json', '-o', 'x', '--max-item-json', '0x10']],
  [extractCommand as unknown as AnyCommand, ['extract', 'save.bin', '-o', 'mem.raw', '--pfn-range', '0-1']],
  [synthCommand as unknown as AnyCommand, ['synth', '--pages', '16', '--size', '1G']], // conflicting: yargs says so
];

describe('the start-up fast path of the CLIs', () => {
  it.each(ACCEPTED)('%#: hands the handler what yargs would', async (command, argv) => {
    const plain = viaPlain(command, argv);
    expect(plain).toBeDefined();
    expect(plain).toEqual(await viaYargs(command, argv));
  });

  it.each(LEFT_TO_YARGS)('%#: leaves the line to yargs', (command, argv) => {
    expect(viaPlain(command, argv)).toBeUndefined();
  });
});
