#!/usr/bin/env node
/**
 * stream-inspect: command-line tools for Xen migration streams. Each command
 * is a yargs CommandModule in ./commands; add new ones to COMMANDS.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { synthCommand } from './commands/synth.js';
import { dumpCommand } from './commands/dump.js';
import { verifyCommand } from './commands/verify.js';
import { statsCommand } from './commands/stats.js';
import { hexdumpCommand } from './commands/hexdump.js';
import { extractCommand } from './commands/extract.js';
import { encodeCommand } from './commands/encode.js';
import { diffCommand } from './commands/diff.js';
import { rewriteCommand } from './commands/rewrite.js';
import { reportCommand } from './commands/report.js';

// Commands differ in their argument types; the list only needs them as modules.
const COMMANDS: ReadonlyArray<CommandModule<object, never>> = [
  synthCommand,
  dumpCommand,
  verifyCommand,
  statsCommand,
  hexdumpCommand,
  extractCommand,
  encodeCommand,
  diffCommand,
  rewriteCommand,
  reportCommand,
] as unknown as ReadonlyArray<CommandModule<object, never>>;

/** A command line that does not make sense (exit status 2, no stack trace). */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Run the CLI on `argv` (without node and script); returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug');
  let cli = yargs([...argv])
    .scriptName('stream-inspect')
    .option('debug', { type: 'boolean', default: false, describe: 'show stack traces on errors' })
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .exitProcess(false)
    .fail((message: string | undefined, error: Error | undefined) => {
      throw error ?? new UsageError(message ?? 'bad command line');
    });
  for (const command of COMMANDS) cli = cli.command(command);
  try {
    await cli.parseAsync();
    // Commands that report through their exit status (verify, diff, …) set process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    if (debug) process.stderr.write(`${err.stack ?? err.message}\n`);
    else process.stderr.write(`stream-inspect: ${err.name === 'UsageError' || err.name === 'YError' ? '' : `${err.name}: `}${err.message}\n`);
    return err.name === 'UsageError' || err.name === 'YError' ? 2 : 1;
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

if (isEntryPoint()) {
  process.exitCode = await main(hideBin(process.argv));
}
