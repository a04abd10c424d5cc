/** stream-inspect extract --format elf|lime and hexdump --paddr, through the built CLI: outputs, messages, usage errors. */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from './support/cli-run.js';
import { multiPassPv, PAGE, pageContent } from './support/cli-streams.js';

let dir: string;
let input: string;
beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cli-export-'));
  input = join(dir, 'multi.bin');
  writeFileSync(input, multiPassPv().bytes);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('extract --format', () => {
  it('elf: an ELF64 x86-64 core, one line of figures', async () => {
    const out = join(dir, 'multi.core');
    const r = await runCli(['extract', input, '--format', 'elf', '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // pfns 0–9, 11–47 and 60 hold data (10 went away as XTAB): 3 runs, 48 pages.
    expect(r.out).toMatch(/multi\.core: ELF core, 3 PT_LOAD segments, 48 pages of data, /);
    const head = readFileSync(out).subarray(0, 20);
    expect(head.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(head.readUInt16LE(16)).toBe(4); // ET_CORE
    expect(head.readUInt16LE(18)).toBe(62); // EM_X86_64
  });

  it('lime: from standard input, no scratch file left behind', async () => {
    const out = join(dir, 'stdin.lime');
    const r = await runCli(['extract', '-', '--format', 'lime', '-o', out], readFileSync(input));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/stdin\.lime: LiME, 3 ranges, 48 pages of data, /);
    expect(readFileSync(out).readUInt32LE(0)).toBe(0x4c694d45);
    expect(readdirSync(dir).filter((f) => /spool|partial/.test(f))).toEqual([]);
  });

  it('elf or lime needs -o', async () => {
    const r = await runCli(['extract', input, '--format', 'lime']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format lime: give the output file with -o');
  });
});

describe('hexdump --paddr', () => {
  it('shows the last copy of the page at a guest physical address', async () => {
    const r = await runCli(['hexdump', input, '--paddr', `0x${(9 * PAGE).toString(16)}`, '--length', '16']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('-- pfn 0x9: NOTAB, page data at stream offset 0x');
    // pfn 9's last copy is pass 3's: bytes 4–7 hold the version.
    const hex = [...pageContent(9, 3).subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    expect(r.out).toContain(`0x00009000  ${hex}`);
  });

  it('refuses a second target, and --length without --paddr', async () => {
    const both = await runCli(['hexdump', input, '--paddr', '0', '--record', '1']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give exactly one of --record N, --offset X or --paddr ADDR');
    const length = await runCli(['hexdump', input, '--record', '1', '--length', '5']);
    expect(length.code).toBe(2);
    expect(length.stderr).toContain('--length and --spill-dir go with --paddr');
  });
});
