#!/usr/bin/env node
/**
 * stream-inspect: command-line tools for Xen migration streams. Each command
 * is a yargs CommandModule in ./commands; add new ones to COMMANDS.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { EXIT_OK, failWithUsageError, guardStandardStreams, reportError } from './errors.js';
import { namedCommand, refuseEmptyArguments } from './argv-checks.js';
import { helpWidth } from './help-width.js';
import { parsePlainCommandLine } from './plain-command-line.js';
import { packageVersion } from './version.js';

const PROGRAM = 'stream-inspect';
/**
 * The commands, loaded lazily: a run imports only the command it runs, so a
 * `verify` of a big file does not pay for loading the report, rewrite or
 * writer code (start-up time and memory are part of what it costs).
 */
type AnyCommand = CommandModule<object, never>;
const COMMANDS: ReadonlyArray<{ name: string; load: () => Promise<AnyCommand> }> = [
  { name: 'synth', load: async () => (await import('./commands/synth.js')).synthCommand as unknown as AnyCommand },
  { name: 'dump', load: async () => (await import('./commands/dump.js')).dumpCommand as unknown as AnyCommand },
  { name: 'verify', load: async () => (await import('./commands/verify.js')).verifyCommand as unknown as AnyCommand },
  { name: 'stats', load: async () => (await import('./commands/stats.js')).statsCommand as unknown as AnyCommand },
  { name: 'hexdump', load: async () => (await import('./commands/hexdump.js')).hexdumpCommand as unknown as AnyCommand },
  { name: 'extract', load: async () => (await import('./commands/extract.js')).extractCommand as unknown as AnyCommand },
  { name: 'encode', load: async () => (await import('./commands/encode.js')).encodeCommand as unknown as AnyCommand },
  { name: 'diff', load: async () => (await import('./commands/diff.js')).diffCommand as unknown as AnyCommand },
  { name: 'rewrite', load: async () => (await import('./commands/rewrite.js')).rewriteCommand as unknown as AnyCommand },
  { name: 'report', load: async () => (await import('./commands/report.js')).reportCommand as unknown as AnyCommand },
  { name: 'convert-legacy', load: async () => (await import('./commands/convert-legacy.js')).convertLegacyCommand as unknown as AnyCommand },
  { name: 'compat', load: async () => (await import('./commands/compat.js')).compatCommand as unknown as AnyCommand },
];

/** The option the program itself takes before or after any command. */
const DEBUG_OPTION = { type: 'boolean', default: false, describe: 'show stack traces on errors' } as const;

/** The status a command left in process.exitCode (verify, diff, … report through it), handed back instead. */
function takeExitStatus(): number {
  const status = typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  process.exitCode = undefined;
  return status;
}

/**
 * Run the CLI on `argv` (without node and script); returns the exit status (src/cli/errors.ts).
 * A plainly valid command line runs its command straight away; yargs is
 * loaded only for anything else: help, version, usage errors
 * (src/cli/plain-command-line.ts says which lines are which).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    refuseEmptyArguments(argv);
    const name = namedCommand(
      argv,
      COMMANDS.map((c) => c.name),
    );
    const named = COMMANDS.find((c) => c.name === name);
    if (named !== undefined) {
      const command = await named.load();
      const args =
        typeof command.command === 'string'
          ? parsePlainCommandLine(argv, { name: named.name, command: command.command, builder: command.builder }, PROGRAM, { debug: DEBUG_OPTION })
          : undefined;
      if (args !== undefined) {
        await command.handler(args as never);
        return takeExitStatus();
      }
    }
    const { default: yargs } = await import('yargs');
    let cli = yargs([...argv])
      .scriptName(PROGRAM)
      .option('debug', DEBUG_OPTION)
      .demandCommand(1, 'name a command (stream-inspect --help lists them)')
      .strict()
      .help()
      .version('version', 'show the version of stream-inspect', packageVersion())
      .wrap(helpWidth())
      .exitProcess(false)
      .fail(failWithUsageError);
    // The command this line names, or all of them (for help).
    for (const command of await Promise.all((named ? [named] : COMMANDS).map((c) => c.load()))) cli = cli.command(command);
    await cli.parseAsync();
    return takeExitStatus();
  } catch (error) {
    return reportError(PROGRAM, error, debug);
  }
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** What running this file as the executable does (also called by the build's start-up dispatcher, scripts/build-cli.mjs). */
export async function runAsExecutable(): Promise<void> {
  guardStandardStreams(PROGRAM);
  // process.argv without node and the script (what yargs' hideBin gives outside Electron).
  process.exitCode = await main(process.argv.slice(2));
}

// No top-level await: the build makes this file CommonJS (scripts/build-cli.mjs).
if (isEntryPoint()) void runAsExecutable();
