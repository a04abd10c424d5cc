/**
 * The start-up fast path of both CLIs: a command line that is plainly valid
 * (a known command, its positionals, known options each given once with a
 * valid value) is parsed here and the command's handler runs without loading
 * yargs. Loading yargs, and letting it build every command's options and
 * help, cost more than verifying a small stream.
 *
 * Anything else — --help, --version, completion, an unknown or repeated
 * option, a missing positional, a value outside its choices, `--no-x`,
 * `--`, bundled short flags, two options that conflict, a builder that calls
 * anything but option(s), positional, example, usage (its message) and conflicts — returns undefined, and the caller hands the line
 * to yargs, which stays the one authority on usage errors and help text.
 * So this parser only ever accepts lines yargs accepts, and gives the handler
 * the same arguments yargs would: defaults, coerce, both the kebab-case and
 * camelCase key of each option, its aliases, `_` and `$0`.
 */

interface OptionSpec {
  type?: string;
  choices?: readonly unknown[];
  default?: unknown;
  coerce?: (value: unknown) => unknown;
  alias?: string | readonly string[];
  demandOption?: unknown;
}

/** Thrown inside a recorded builder when it uses something this parser does not model. */
class NotPlain extends Error {}

const notPlain = (): never => {
  throw new NotPlain();
};

/**
 * Runs a yargs command builder against a stand-in that records its options
 * and positionals. Any method besides those (check, conflicts, middleware, …)
 * means the command line is left to yargs.
 */
function recordBuilder(
  builder: unknown,
): { options: Map<string, OptionSpec>; positionals: Map<string, OptionSpec>; conflicts: Array<[string, string]> } | undefined {
  const options = new Map<string, OptionSpec>();
  const positionals = new Map<string, OptionSpec>();
  const conflicts: Array<[string, string]> = [];
  const recorder: Record<string, unknown> = new Proxy(
    {},
    {
      get(_target, method) {
        switch (method) {
          case 'option':
            return (name: string, spec: OptionSpec) => {
              options.set(name, spec);
              return recorder;
            };
          case 'options':
            return (specs: Record<string, OptionSpec>) => {
              for (const [name, spec] of Object.entries(specs)) options.set(name, spec);
              return recorder;
            };
          case 'positional':
            return (name: string, spec: OptionSpec) => {
              positionals.set(name, spec);
              return recorder;
            };
          case 'example':
            return () => recorder;
          case 'usage':
            // A usage message (help text only); usage(cmd, desc, builder, handler) would define a command.
            return (...args: unknown[]) => (args.length === 1 && typeof args[0] === 'string' ? recorder : notPlain());
          case 'conflicts':
            // Only the (name, name | names) form; the pairs are checked once the line is read.
            return (name: unknown, others: unknown) => {
              const list: unknown[] = typeof others === 'string' ? [others] : Array.isArray(others) ? others : [];
              if (typeof name !== 'string' || list.length === 0) return notPlain();
              for (const other of list) {
                if (typeof other !== 'string') return notPlain();
                conflicts.push([name, other]);
              }
              return recorder;
            };
          default:
            return notPlain;
        }
      },
    },
  );
  try {
    if (typeof builder === 'function') builder(recorder);
    else if (builder !== undefined) return undefined;
  } catch (e) {
    if (e instanceof NotPlain) return undefined;
    throw e;
  }
  return { options, positionals, conflicts };
}

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function aliasesOf(spec: OptionSpec): string[] {
  return spec.alias === undefined ? [] : typeof spec.alias === 'string' ? [spec.alias] : [...spec.alias];
}

/** A value as yargs would give it for this option, or NotPlain when yargs might read it otherwise. */
function optionValue(spec: OptionSpec, text: string): unknown {
  let value: unknown;
  if (spec.type === 'string') value = text;
  else if (spec.type === 'number') {
    // Only plain decimals: yargs' own reading of anything else (hex, '', exponents) is its business.
    if (!/^(0|[1-9][0-9]{0,14})$/.test(text)) notPlain();
    value = Number(text);
  } else if (spec.type === undefined && spec.choices !== undefined) {
    // Untyped: yargs turns numeric-looking text into numbers; plain words stay strings.
    if (!/^[A-Za-z][A-Za-z-]*$/.test(text)) notPlain();
    value = text;
  } else notPlain();
  if (spec.choices !== undefined && !spec.choices.includes(value)) notPlain();
  return value;
}

export interface PlainCommand {
  /** The command's name (its first word). */
  name: string;
  /** yargs' command string: `verify <file>`, `receive`, `diff <a> <b>`. */
  command: string;
  builder?: unknown;
}

/**
 * The handler arguments yargs would give `command` for `argv`, or undefined
 * when the line is not plainly valid (then yargs must parse it). `global`
 * are options every command accepts (the CLI's own --debug).
 */
export function parsePlainCommandLine(
  argv: readonly string[],
  command: PlainCommand,
  program: string,
  global: Record<string, OptionSpec> = {},
): Record<string, unknown> | undefined {
  const words = command.command.trim().split(/\s+/);
  if (words[0] !== command.name || argv[0] !== command.name) return undefined;
  const declared = words.slice(1).map((w) => /^<([a-z][a-z0-9-]*)>$/i.exec(w)?.[1]);
  if (declared.some((p) => p === undefined)) return undefined; // optional or variadic positionals: yargs
  const recorded = recordBuilder(command.builder);
  if (recorded === undefined) return undefined;
  const options = new Map<string, OptionSpec>([...Object.entries(global), ...recorded.options]);
  const byFlag = new Map<string, string>();
  for (const [name, spec] of options) {
    byFlag.set(`--${name}`, name);
    for (const alias of aliasesOf(spec)) byFlag.set(alias.length === 1 ? `-${alias}` : `--${alias}`, name);
  }

  const given = new Map<string, unknown>();
  const positionalTexts: string[] = [];
  try {
    for (let i = 1; i < argv.length; i++) {
      const arg = argv[i];
      if (arg === '-' || !arg.startsWith('-')) {
        positionalTexts.push(arg);
        continue;
      }
      const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
      const flag = eq >= 0 ? arg.slice(0, eq) : arg;
      const name = byFlag.get(flag);
      if (name === undefined || given.has(name)) return undefined;
      const spec = options.get(name) as OptionSpec;
      if (spec.type === 'boolean') {
        if (eq >= 0) return undefined;
        given.set(name, true);
        continue;
      }
      let text: string | undefined;
      if (eq >= 0) text = arg.slice(eq + 1);
      else {
        text = argv[++i];
        // A value that looks like an option (or none): yargs decides what was meant.
        if (text === undefined || text.startsWith('-')) return undefined;
      }
      given.set(name, optionValue(spec, text));
    }
  } catch (e) {
    if (e instanceof NotPlain) return undefined;
    throw e;
  }
  if (positionalTexts.length !== declared.length) return undefined;
  // Conflicting options: plain only when neither has a default (which yargs might count as given) and not both were given.
  for (const [a, b] of recorded.conflicts) {
    if (options.get(a)?.default !== undefined || options.get(b)?.default !== undefined) return undefined;
    if (given.has(a) && given.has(b)) return undefined;
  }

  const args: Record<string, unknown> = { _: [command.name], $0: program };
  const set = (name: string, spec: OptionSpec, value: unknown): void => {
    const v = spec.coerce !== undefined ? spec.coerce(value) : value;
    args[name] = v;
    if (name.includes('-')) args[camelCase(name)] = v;
    for (const alias of aliasesOf(spec)) args[alias] = v;
  };
  for (let p = 0; p < declared.length; p++) {
    const name = declared[p] as string;
    const spec = recorded.positionals.get(name) ?? {};
    // Untyped positionals are turned into numbers by yargs when they look like one: leave those to it.
    if (spec.type !== 'string' || spec.choices !== undefined) return undefined;
    // yargs hands a lone '-' over as '' (see dashArgument); a positional without coerce would see that.
    if (positionalTexts[p] === '-' && spec.coerce === undefined) return undefined;
    set(name, spec, positionalTexts[p]);
  }
  for (const [name, spec] of options) {
    if (given.has(name)) set(name, spec, given.get(name));
    else if (spec.demandOption) return undefined;
    else if (spec.default !== undefined) set(name, spec, spec.default);
  }
  return args;
}
