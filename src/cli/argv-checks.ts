/**
 * Checks of the raw command line made before yargs parses it, shared by both
 * CLIs: the command's name (a typo gets the nearest command) and empty
 * arguments (never a valid file name or value; `verify ''` read stdin, `-o ''`
 * read the whole input before failing).
 */
import { UsageError } from './errors.js';

/** The options both CLIs accept before a command that take no value. */
const FLAGS_WITHOUT_VALUE = new Set(['--debug', '--help', '--version']);

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}

/**
 * The command `argv` names, checked before yargs parses it, so a typo gets one
 * line with the nearest command instead of yargs' "Unknown argument".
 * Returns undefined when no command is named (help, version, or nothing), or
 * when the first word may be an option's value (`--timeout 5 send …`): yargs
 * decides then.
 */
export function namedCommand(argv: readonly string[], commands: readonly string[]): string | undefined {
  const at = argv.findIndex((a) => !a.startsWith('-'));
  if (at < 0) return undefined;
  const name = argv[at];
  if (commands.includes(name)) return name;
  const previous = argv[at - 1];
  if (previous !== undefined && !previous.includes('=') && !FLAGS_WITHOUT_VALUE.has(previous)) return undefined;
  const nearest = commands.map((c) => ({ c, d: editDistance(name, c) })).sort((x, y) => x.d - y.d)[0];
  const hint =
    nearest !== undefined && nearest.d <= Math.max(2, Math.floor(name.length / 3)) ? `did you mean '${nearest.c}'?` : `the commands are ${commands.join(', ')}`;
  throw new UsageError(`unknown command '${name}': ${hint}`);
}

/** Refuse an empty argument (`''`, `--output=`) up front, naming the option it was given to. */
export function refuseEmptyArguments(argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return;
    if (arg.startsWith('-') && arg.endsWith('=')) throw new UsageError(`${arg.slice(0, -1)}: empty value`);
    if (arg !== '') continue;
    const previous = argv[i - 1];
    throw new UsageError(
      previous?.startsWith('-') && !previous.includes('=') ? `${previous}: empty value` : "empty argument: give a file name, or '-' for standard input",
    );
  }
}
