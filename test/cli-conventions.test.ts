/**
 * The CLIs' own conventions (issue #17 items 15-17, 19-21), through the real
 * executables in dist/: a closed stdout ends every command quietly with 141,
 * dump shows what it read before an error, --version is this package's,
 * synth's bad values are usage errors, one-line messages, output details.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_OUTPUT_CLOSED, EXIT_USAGE } from '../src/cli/errors.js';
import { canDrawProgress } from '../src/cli/progress.js';
import { hexLines } from '../src/inspect/hexdump.js';
import { renderStatsText, streamStats } from '../src/inspect/stats.js';
import { CLI, ensureCliBuilt, ROOT, runCli, type CliResult } from './support/cli-run.js';
import * as B from './support/build.js';

const MIGRATE_CLI = join(ROOT, 'dist/cli/stream-migrate.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let dir: string;
/** One PAGE_DATA record of 1,024 pages (its hexdump is megabytes). */
let big: string;
/** 2,048 one-page PAGE_DATA records, and the same with other page contents (dump, diff and report print a lot). */
let many: string;
let manyOther: string;
let xl: string;
let json: string;
/** Even pfns and odd pfns (16,384 XTAB entries each): every pfn differs on its own, diff prints a run per pfn. */
let evens: string;
let odds: string;

function spawnNode(script: string, args: readonly string[], cwd = ROOT) {
  return spawn(process.execPath, [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Run a command and close the read end of its stdout after the first chunk, as `| head -c 1` does. */
function runClosingStdout(args: readonly string[], script = CLI): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnNode(script, args);
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr: Buffer.concat(err).toString('utf8') }));
  });
}

function runIn(cwd: string, script: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnNode(script, args, cwd);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out);
      resolve({ code, stdout, out: stdout.toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

function xtabStream(first: number): Uint8Array {
  const batches = Array.from({ length: 16 }, (_, b) => Array.from({ length: 1024 }, (_, i) => 2 * (1024 * b + i) + first));
  return B.concat([
    B.xlHeader(),
    B.libxlHeader(),
    B.rec('libxl', 'LIBXC_CONTEXT'),
    B.imageHeader(),
    B.domainHeader(2),
    B.rec('libxc', 'STATIC_DATA_END'),
    ...batches.map((pfns) =>
      B.pageData(
        pfns,
        0,
        pfns.map(() => 0xf),
      ),
    ),
    B.tscInfo(),
    B.hvmContext(),
    B.hvmParams(),
    B.rec('libxc', 'END'),
    B.rec('libxl', 'END'),
  ]);
}

/** One line on stderr, naming the program, without a stack trace. */
function expectOneLine(stderr: string, program = 'stream-inspect'): void {
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr.startsWith(`${program}: `)).toBe(true);
  expect(stderr).not.toMatch(/\n\s+at |RangeError|TypeError|Error:/);
}

beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cli-conventions-'));
  big = join(dir, 'big.bin');
  many = join(dir, 'many.bin');
  manyOther = join(dir, 'many-other.bin');
  xl = join(dir, 'xl.bin');
  json = join(dir, 'big.json');
  const made = await Promise.all([
    runCli(['synth', '--pages', '1024', '-o', big, '-q']),
    runCli(['synth', '--pages', '2048', '--batch', '1', '-o', many, '-q']),
    runCli(['synth', '--pages', '2048', '--batch', '1', '--seed', '9', '-o', manyOther, '-q']),
    runCli(['synth', '--xl', '--pages', '64', '-o', xl, '-q']),
  ]);
  for (const r of made) expect(r.code, r.stderr).toBe(0);
  evens = join(dir, 'evens.bin');
  odds = join(dir, 'odds.bin');
  writeFileSync(evens, xtabStream(0));
  writeFileSync(odds, xtabStream(1));
  const dumped = await runCli(['dump', big, '-f', 'json', '-o', json]);
  expect(dumped.code, dumped.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('EPIPE: the reader of stdout goes away (item 15)', () => {
  const cases: Array<[string, () => string[]]> = [
    ['report -o -', () => ['report', many, '-o', '-', '-q']],
    ['hexdump', () => ['hexdump', big, '--record', '6', '--max-bytes', '0']],
    ['diff', () => ['diff', evens, odds, '--max-listed', '100000']],
    ['synth', () => ['synth', '--pages', '2048', '-q']],
    ['encode -o -', () => ['encode', json, '-o', '-']],
    ['dump', () => ['dump', many]],
    ['dump -f json', () => ['dump', big, '-f', 'json']],
  ];
  for (const [name, args] of cases) {
    it(`${name}: exits ${EXIT_OUTPUT_CLOSED} (128 + SIGPIPE, like cat) and prints nothing`, async () => {
      const r = await runClosingStdout(args());
      expect(r.stderr).toBe('');
      expect(r.code).toBe(EXIT_OUTPUT_CLOSED);
    });
  }
});

describe('dump of an invalid stream (item 16)', () => {
  it('prints every item read before the error, then the error line', async () => {
    const bytes = readFileSync(many);
    const truncated = join(dir, 'truncated.bin');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const r = await runCli(['dump', truncated]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/STREAM-TRUNCATED at offset/);
    // About half of the 2,048 one-page records come before the cut.
    expect((r.out.match(/PAGE_DATA \(0x1\)/g) ?? []).length).toBeGreaterThan(900);
    const nd = await runCli(['dump', truncated, '-f', 'ndjson']);
    expect(nd.code).toBe(1);
    expect(nd.out.trimEnd().split('\n').length).toBeGreaterThan(900);
  });
});

describe('--version (item 17)', () => {
  it("prints this package's version, not the one of the project in the current directory", async () => {
    const elsewhere = mkdtempSync(join(dir, 'other-project-'));
    writeFileSync(join(elsewhere, 'package.json'), JSON.stringify({ name: 'other', version: '9.9.9' }));
    const inspect = await runIn(elsewhere, CLI, ['--version']);
    expect(inspect.code).toBe(0);
    expect(inspect.out).toBe(`${VERSION}\n`);
    const migrate = await runIn(elsewhere, MIGRATE_CLI, ['--version']);
    expect(migrate.code).toBe(0);
    expect(migrate.out).toBe(`${VERSION}\n`);
  });
});

describe('synth option values (item 19)', () => {
  const bad = [
    ['--pages', '0'],
    ['--pages', '-5'],
    ['--pages', 'abc'],
    ['--pages', '1.5'],
    ['--size', '1P'],
    ['--batch', '0'],
    ['--batch', '5000'],
    ['--vcpus', '100000'],
    ['--postcopy', '--kind', 'pv'],
    ['--seed', 'NaN'],
    ['--passes', '0'],
    ['--checkpoints', '-1'],
  ];
  for (const args of bad) {
    it(`synth ${args.join(' ')}: usage error, one line, exit 2, no output`, async () => {
      const out = join(dir, `bad-${args.join('_')}.bin`);
      const r = await runCli(['synth', ...args, '-o', out]);
      expectOneLine(r.stderr);
      expect(r.code).toBe(EXIT_USAGE);
      expect(readdirSync(dir).filter((n) => n.includes('bad-'))).toEqual([]);
    });
  }

  it('an I/O error exits 2 as in every other command', async () => {
    const r = await runCli(['synth', '-o', join(dir, 'no-such-dir', 'x.bin')]);
    expectOneLine(r.stderr);
    expect(r.code).toBe(EXIT_USAGE);
  });
});

describe('messages (item 20)', () => {
  it('verify of a directory names it', async () => {
    for (const command of ['verify', 'dump', 'stats', 'encode']) {
      const r = await runCli([command, dir, ...(command === 'encode' ? ['-o', join(dir, 'never.bin')] : [])]);
      expectOneLine(r.stderr);
      expect(r.stderr).toContain(`${dir} is a directory`);
      expect(r.code).toBe(EXIT_USAGE);
    }
  });

  it('a mistyped command gets "did you mean", in both CLIs', async () => {
    const inspect = await runCli(['verfy', many]);
    expectOneLine(inspect.stderr);
    expect(inspect.stderr).toContain("did you mean 'verify'?");
    expect(inspect.code).toBe(EXIT_USAGE);
    const migrate = await runIn(ROOT, MIGRATE_CLI, ['recieve', '-o', join(dir, 'x')]);
    expectOneLine(migrate.stderr, 'stream-migrate');
    expect(migrate.stderr).toContain("did you mean 'receive'?");
    expect(migrate.code).toBe(EXIT_USAGE);
  });

  it("an empty argument is refused by name, before any input is read (verify '' read stdin)", async () => {
    const empty = await runCli(['verify', ''], readFileSync(many));
    expectOneLine(empty.stderr);
    expect(empty.stderr).toContain('empty argument');
    expect(empty.code).toBe(EXIT_USAGE);
    expect(empty.out).toBe('');
    for (const args of [
      ['dump', many, '-o', ''],
      ['dump', many, '--output='],
    ]) {
      const r = await runCli(args);
      expectOneLine(r.stderr);
      expect(r.stderr).toMatch(/-(o|-output): empty value/);
      expect(r.code).toBe(EXIT_USAGE);
    }
  });

  it('a number option quotes what was typed (rewrite --batch abc), and --debug before a mistyped command still gets the hint', async () => {
    const batch = await runCli(['rewrite', many, '-o', join(dir, 'never.bin'), '--batch', 'abc']);
    expectOneLine(batch.stderr);
    expect(batch.stderr).toContain('got "abc"');
    expect(batch.code).toBe(EXIT_USAGE);
    const typo = await runCli(['--debug', 'dmp', many]);
    expect(typo.stderr.split('\n')[0]).toBe("stream-inspect: unknown command 'dmp': did you mean 'dump'?");
    expect(typo.code).toBe(EXIT_USAGE);
  });

  it('yargs validation errors are one line too (--format yaml, conflicting flags)', async () => {
    const yaml = await runCli(['dump', many, '--format', 'yaml']);
    expectOneLine(yaml.stderr);
    expect(yaml.stderr).toContain('yaml');
    expect(yaml.code).toBe(EXIT_USAGE);
    const conflicting = await runIn(ROOT, MIGRATE_CLI, ['receive', '--remus', '--colo', '-o', join(dir, 'x')]);
    expectOneLine(conflicting.stderr, 'stream-migrate');
    expect(conflicting.code).toBe(EXIT_USAGE);
  });
});

describe('output details (item 21)', () => {
  it('hexdump shows DEL (0x7f) as "." like every other unprintable byte', async () => {
    const body = readFileSync(big).subarray(0x200, 0x200 + 4096 * 15);
    expect(body.includes(0x7f)).toBe(true); // the dump below covers DEL bytes
    const r = await runCli(['hexdump', big, '--record', '6', '--max-bytes', String(4096 * 16)]);
    expect(r.code).toBe(0);
    expect(r.stdout.includes(0x7f)).toBe(false);
    expect(hexLines(Uint8Array.of(0x41, 0x7f, 0x42), 0)).toMatch(/41 7f 42 +A\.B$/m);
  });

  it("the HTML report's hexdumps show no raw DEL either (the real pv128 save has 0x7f bytes in them)", async () => {
    const r = await runCli(['report', join(ROOT, 'fixtures/xen-4.17/pv128-save.bin.gz'), '-o', '-', '-q']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ 7f /); // a DEL byte in a hex column
    expect(r.stdout.includes(0x7f)).toBe(false);
  });

  it("ndjson: the xl config is JSON that jq's fromjson reads (no trailing NUL); encode stays byte-exact", async () => {
    const r = await runCli(['dump', xl, '-f', 'ndjson']);
    expect(r.code).toBe(0);
    const header = JSON.parse(r.out.split('\n')[0]) as { kind: string; config: string; configNulTerminated?: boolean };
    expect(header.kind).toBe('xl-header');
    expect(header.configNulTerminated).toBe(true);
    expect(() => JSON.parse(header.config)).not.toThrow();
    const doc = join(dir, 'xl.json');
    const copy = join(dir, 'xl-copy.bin');
    expect((await runCli(['dump', xl, '-f', 'json', '-o', doc])).code).toBe(0);
    expect((await runCli(['encode', doc, '-o', copy])).code).toBe(0);
    expect(readFileSync(copy).equals(readFileSync(xl))).toBe(true);
  });

  it('stats: table columns stay apart when the counts are wide', async () => {
    const { summary } = await streamStats(readFileSync(many));
    const wide = { ...summary, passes: summary.passes.map((p) => ({ ...p, records: 123_456_789, pfns: 12_345_678_901, pages: 12_345_678_901 })) };
    const text = renderStatsText(wide);
    const passRows = text
      .slice(text.indexOf('passes:'))
      .split('\n')
      .slice(2)
      .filter((l) => l.trim() !== '');
    expect(passRows.length).toBeGreaterThan(0);
    for (const row of passRows) expect(row.trim().split(/ {2,}/)).toEqual(['1', '-', '123,456,789', '12,345,678,901', '12,345,678,901']);
  });

  it('help examples are not wrapped in the middle of a command', async () => {
    const r = await runCli(['rewrite', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}stream-inspect rewrite fixtures\/xen-4\.17\/pv128-save\.bin\.gz -o pv128-b64\.bin --batch 64 /m);
    const report = await runCli(['report', '--help']);
    expect(report.out).toMatch(/^ {2}stream-inspect report - -o - < save\.bin > save\.html /m);
  });

  it('progress is drawn only on a terminal that is not TERM=dumb', () => {
    expect(canDrawProgress({ isTTY: true }, { TERM: 'xterm-256color' })).toBe(true);
    expect(canDrawProgress({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(canDrawProgress({ isTTY: false }, { TERM: 'xterm-256color' })).toBe(false);
    expect(canDrawProgress({}, {})).toBe(false);
  });
});
