/** A tiny `--name value` / `--flag` parser for the bench scripts (no dependency, strict: unknown options are errors). */
export interface OptionSpec {
  /** 'string' takes a value, 'boolean' is a flag (`--no-x` sets it false). */
  type: 'string' | 'boolean';
  default?: string | boolean;
  describe: string;
}

export type ParsedArgs = Record<string, string | boolean | undefined>;

export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>, usage: string): ParsedArgs {
  const out: ParsedArgs = {};
  for (const [name, s] of Object.entries(spec)) out[name] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    if (a === '--help' || a === '-h') {
      process.stdout.write(helpText(spec, usage));
      process.exit(0);
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(a)}\n${helpText(spec, usage)}`);
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (name.startsWith('no-') && spec[name.slice(3)]?.type === 'boolean') {
      out[name.slice(3)] = false;
      continue;
    }
    const s = spec[name];
    if (!s) throw new Error(`unknown option --${name}\n${helpText(spec, usage)}`);
    if (s.type === 'boolean') {
      out[name] = value === undefined ? true : value !== 'false';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
    }
    out[name] = value;
  }
  return out;
}

function helpText(spec: Record<string, OptionSpec>, usage: string): string {
  const lines = [usage, '', 'options:'];
  for (const [name, s] of Object.entries(spec)) {
    const flag = s.type === 'boolean' ? `--${name}` : `--${name} VALUE`;
    lines.push(`  ${flag.padEnd(24)}${s.describe}${s.default !== undefined && s.default !== false ? ` (default ${String(s.default)})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Sizes like 256M, 1G, 16M, 4096 (binary units). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) throw new Error(`cannot read ${JSON.stringify(text)} as a size (e.g. 256M, 1G)`);
  const unit = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(m[1]) * unit);
}
