/** stream-inspect dump (text, json, ndjson, filters, stdin) and the clean one-line errors, through the real executable. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from './support/cli-run.js';
import { hvmWithEmulator, multiPassPv, postcopyRfc } from './support/cli-streams.js';

let dir: string;
let multi: string;
let hvm: string;
let pc: string;
const multiStream = multiPassPv();

beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cli-dump-'));
  multi = join(dir, 'multi.bin');
  hvm = join(dir, 'hvm.bin');
  pc = join(dir, 'pc.bin');
  writeFileSync(multi, multiStream.bytes);
  writeFileSync(hvm, hvmWithEmulator().bytes);
  writeFileSync(pc, postcopyRfc().bytes);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dump --format text', () => {
  it('prints every header and record, aligned, with the config pretty-printed', async () => {
    const r = await runCli(['dump', multi]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^OFFSET\s+LAYER\s+#\s+TYPE\s+LENGTH\s+FIELDS$/);
    expect(r.out).toMatch(/^0x00000000 {2}xl {5} {6}xl header/m);
    expect(r.out).toContain('"c_info": {');
    expect(r.out).toMatch(/libxc {2}#7 {4}PAGE_DATA \(0x1\) +36,944 {2}count 9, 9 pages of data, pfns 0x8–0x28, NOTAB×8 L1TAB×1/);
    // Each record's line starts at its offset.
    for (const [i, off] of multiStream.recordOffsets.entries())
      expect(r.out).toContain(`0x${off.toString(16).padStart(8, '0')}  ${i === 0 || i === multiStream.recordOffsets.length - 1 ? 'libxl' : 'libxc'}  #${i} `);
    expect(r.out).toContain('end: complete stream');
  });

  it('--records filters by name and by number; --pages lists pfns as runs', async () => {
    const r = await runCli(['dump', multi, '--records', 'libxc:PAGE_DATA', '--pages']);
    expect(r.code).toBe(0);
    const recordLines = r.out.split('\n').filter((l) => /^0x/.test(l));
    expect(recordLines).toHaveLength(5);
    expect(recordLines.every((l) => l.includes('PAGE_DATA'))).toBe(true);
    expect(r.out).toContain('pfns: 0x9 NOTAB, 0xa XTAB, 0x3c NOTAB');
    const byNumber = await runCli(['dump', multi, '--records', '0x0']);
    expect(
      byNumber.out
        .split('\n')
        .filter((l) => /^0x/.test(l))
        .map((l) => l.split(/\s+/)[1]),
    ).toEqual(['libxc', 'libxl']);
  });

  it('rejects an unknown record name as a usage error (exit 2)', async () => {
    const r = await runCli(['dump', multi, '--records', 'PAGEDATA']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^stream-inspect: --records: no record type named "PAGEDATA"/);
  });

  it('shows emulator records and HVM context entries', async () => {
    const r = await runCli(['dump', hvm]);
    expect(r.code).toBe(0);
    // A QEVM header then no section: what is read is said, and where it stopped.
    expect(r.out).toMatch(
      /EMULATOR_CONTEXT \(0x3\) +31 {2}emulator 2 \(QEMU upstream\), index 0, blob 23 bytes: QEMU savevm v3, 0 sections; stopped at blob offset 8: no section header here/,
    );
    expect(r.out).toContain('entries: HEADER, END');
    expect(r.out).toContain('STORE_PFN(1) = 0xfeffc');
  });
});

describe('dump --format ndjson / json', () => {
  it('ndjson: one object per line with layer, type, name, offset, length; pfns only with --pages', async () => {
    const r = await runCli(['dump', multi, '--format', 'ndjson']);
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const records = lines.filter((l) => l.kind === 'record');
    expect(records).toHaveLength(multiStream.recordOffsets.length);
    records.forEach((rec, i) => {
      expect(rec).toMatchObject({ index: i, offset: multiStream.recordOffsets[i] });
      for (const k of ['layer', 'type', 'name', 'length']) expect(rec).toHaveProperty(k);
    });
    const page = records.find((rec) => rec.name === 'PAGE_DATA') as { body: Record<string, unknown> };
    expect(page.body.dataPages).toBe(16);
    expect(page.body).not.toHaveProperty('pfns');
    expect(lines[lines.length - 1]).toMatchObject({ kind: 'end', status: 'complete' });
    const withPages = await runCli(['dump', multi, '-f', 'ndjson', '--pages', '--records', 'PAGE_DATA']);
    expect((JSON.parse(withPages.out.split('\n')[0]) as { body: { pfns: number[] } }).body.pfns).toEqual([...Array(16).keys()]);
  });

  it("json: one document in the codec's form", async () => {
    const r = await runCli(['dump', multi, '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { format: string; dialect: string; items: Array<{ kind: string }>; end: { status: string } };
    expect(doc.format).toBe('xen-migration-stream/1');
    expect(doc.items.map((i) => i.kind).slice(0, 2)).toEqual(['xl-header', 'libxl-header']);
    expect(doc.items.filter((i) => i.kind === 'record')).toHaveLength(multiStream.recordOffsets.length);
    expect(doc.end.status).toBe('complete');
  });
});

describe('dump input', () => {
  it("reads '-' from stdin, gzip-compressed or not, with the same output as the file", async () => {
    const fromFile = await runCli(['dump', multi, '-f', 'ndjson']);
    const fromStdin = await runCli(['dump', '-', '-f', 'ndjson'], multiStream.bytes);
    const fromGzip = await runCli(['dump', '-', '-f', 'ndjson'], gzipSync(multiStream.bytes));
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.out).toBe(fromFile.out);
    expect(fromGzip.out).toBe(fromFile.out);
  });

  it('a truncated stream: one clean line with the rule and offset, exit 1, no partial -o file', async () => {
    const cut = join(dir, 'cut.bin');
    writeFileSync(cut, multiStream.bytes.subarray(0, multiStream.recordOffsets[5] + 100));
    const out = join(dir, 'out-truncated.json');
    const r = await runCli(['dump', cut, '-f', 'json', '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^stream-inspect: STREAM-TRUNCATED at offset ${multiStream.recordOffsets[5] + 100} \\(0x[0-9a-f]+\\)`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir).filter((f) => f.includes('out-truncated'))).toEqual([]);
  });

  it('a corrupted record: its rule id, offset and record, exit 1; --debug adds the stack', async () => {
    const bad = Uint8Array.from(multiStream.bytes);
    const at = multiStream.recordOffsets[4]; // a PAGE_DATA record: break its first pfn's type nibble
    bad[at + 8 + 8 + 7] = 0x50;
    const file = join(dir, 'corrupt.bin');
    writeFileSync(file, bad);
    const r = await runCli(['dump', file, '-f', 'ndjson']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `stream-inspect: LIBXC-PAGE-DATA-TYPE at offset ${at + 16} (0x${(at + 16).toString(16)}), record #4 libxc PAGE_DATA: PAGE_DATA pfn type nibble 5–8 is invalid. (expected type nibble 0–4 or 9–15, got 0x5 in pfn[0])`,
    );
    const debug = await runCli(['dump', file, '--debug']);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('a postcopy stream read as upstream says to try --dialect postcopy-rfc', async () => {
    const r = await runCli(['dump', pc]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/STREAM-DIALECT .*try --dialect postcopy-rfc/);
    const ok = await runCli(['dump', pc, '--dialect', 'postcopy-rfc']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('POSTCOPY_PAGE_DATA (0x14)');
  });

  it('usage errors exit 2: missing file, unknown option, bad choice', async () => {
    const missing = await runCli(['dump', join(dir, 'nope.bin')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^stream-inspect: ENOENT/);
    expect((await runCli(['dump', multi, '--bogus'])).code).toBe(2);
    expect((await runCli(['dump', multi, '--format', 'xml'])).code).toBe(2);
    expect((await runCli([])).code).toBe(2);
  });
});
