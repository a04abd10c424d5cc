/**
 * The report library and command without a browser: what the collected data
 * holds (passes, resent pages, pfn buckets, bounded tables), that the HTML
 * references nothing outside itself, and the command's exit codes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport, collectReport } from '../src/report/index.js';
import { PfnHeat } from '../src/report/pfn-heat.js';
import { readStreamSync } from '../src/reader/stream-reader.js';
import { checkpointed, concat, emulatorContext, hvmLibxc, libxlHeader, rec, xenstoreData, xlHeader } from './support/build.js';

const ROOT = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'report-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = '{"c_info":{"type":"hvm","name":"report-test"},"b_info":{"max_memkb":16384}}\0';
/** A plain HVM xl save file with one PAGE_DATA record per pass and a real-looking config. */
function multiPass(passes: number[][]): Uint8Array {
  return concat([xlHeader(CONFIG), libxlHeader(), rec('libxl', 'LIBXC_CONTEXT'), ...hvmLibxc(passes), xenstoreData(), emulatorContext(), rec('libxl', 'END')]);
}

/** Everything that would make a browser fetch something. */
function externalReferences(html: string): string[] {
  const found: string[] = [];
  for (const re of [
    /\b(?:src|href|action|srcset|poster|data|xlink:href)\s*=\s*["']?(?!#)[^"'\s>]+/gi,
    /url\s*\(/gi,
    /@import/gi,
    /<(?:link|iframe|object|embed|img|image|use|base|form)\b/gi,
    /\b(?:https?|ftp|wss?|file):\/\//gi,
  ]) {
    for (const m of html.matchAll(re)) found.push(m[0]);
  }
  return found;
}

describe('report data', () => {
  it('counts pages and resent pages per pass exactly as the summary cuts passes', async () => {
    const bytes = multiPass([[0, 1, 2, 3, 4, 5, 6, 7], [1, 2, 5], [2]]);
    const { data } = await buildReport(bytes);
    const summary = readStreamSync(bytes).readAll().summary;
    expect(data.passes.map((p) => p.pages)).toEqual(summary.passes.map((p) => p.pages));
    expect(data.passes.map((p) => p.resentPages)).toEqual([0, 3, 1]);
    expect(data.passesTotal).toBe(3);
    // pfn map: 8 pfns, one per cell; pfn 2 sent three times, 1 and 5 twice.
    expect(data.pfnMap.bucketSize).toBe(1);
    expect(data.pfnMap.buckets.map((b) => b.entries)).toEqual([1, 2, 3, 1, 1, 2, 1, 1]);
    // Passes are not merged into one record-table row.
    const pageRows = data.table.head.filter((r) => r.name === 'PAGE_DATA');
    expect(pageRows.map((r) => r.pass)).toEqual([1, 2, 3]);
    expect(data.config?.text).toBe(CONFIG.slice(0, -1));
  });

  it('buckets pfns into at most the cell limit, keeping every count', () => {
    const heat = new PfnHeat(16);
    const pfns = [0, 1, 2, 999_999, 500_000, 2];
    heat.add(
      pfns,
      pfns.map(() => 0),
    );
    const map = heat.build();
    expect(map.buckets.length).toBeLessThanOrEqual(16);
    expect(map.bucketSize * 16).toBeGreaterThan(999_999);
    expect(map.buckets.reduce((a, b) => a + b.entries, 0)).toBe(6);
    expect(map.buckets.reduce((a, b) => a + b.distinct, 0)).toBe(5);
    expect(map.buckets[0].entries).toBe(4);
  });

  it('stays bounded on a long checkpointed stream: rows, timeline and markers are capped, the rest counted', async () => {
    const bytes = checkpointed(3000); // 21,002 records, no PAGE_DATA runs to collapse
    const { data, html } = await buildReport(bytes, { limits: { headRows: 200, tailRows: 20, timelineSegments: 256, markers: 50 } });
    expect(data.summary.records).toBe(21_002);
    expect(data.table.head.length).toBe(200);
    expect(data.table.tail.length).toBe(20);
    const shownRecords = [...data.table.head, ...data.table.tail].reduce((a, r) => a + r.records, 0);
    expect(shownRecords + data.table.omitted.records).toBe(data.summary.records);
    expect(data.timeline.segments.length).toBeLessThanOrEqual(256);
    expect(data.timeline.segments.reduce((a, s) => a + s.length, 0)).toBe(data.timeline.totalBytes);
    expect(data.timeline.markers.length).toBe(50);
    expect(data.timeline.markersOmitted).toBe(2950);
    expect(html).toContain('id="rows-omitted"');
    expect(Buffer.byteLength(html)).toBeLessThan(1 << 20);
  });

  it('an invalid stream keeps what was read and the error with its offset and rule', async () => {
    const good = multiPass([
      [0, 1, 2, 3],
      [1, 2],
    ]);
    const cut = good.subarray(0, good.length - 100);
    const data = await collectReport(cut);
    expect(data.verdict.status).toBe('invalid');
    expect(data.verdict.error?.ruleId).toBe('STREAM-TRUNCATED');
    expect(data.verdict.error?.offset).toBe(cut.length);
    expect(data.table.head.some((r) => r.name === 'PAGE_DATA')).toBe(true);
    expect(data.timeline.markers.find((m) => m.kind === 'error')?.offset).toBe(cut.length);
  });

  it('the HTML references nothing outside itself and forbids fetching in its CSP', async () => {
    const { html } = await buildReport(
      multiPass([
        [0, 1, 2, 3],
        [1, 2],
      ]),
    );
    expect(externalReferences(html)).toEqual([]);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;/);
    // The detector finds what it is meant to find.
    expect(externalReferences('<img src="http://x/y.png"><a href="#r1">')).toHaveLength(3);
    // Readable without scripts: rows are <details>; the script only shows the toolbar.
    expect(html).toContain('<details class="rec');
    expect(html).toContain('id="row-tools" hidden');
  });
});

describe('stream-inspect report', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/stream-inspect.ts'), 'report', ...args], { cwd: ROOT, encoding: 'utf8' });

  it('exits 0 and writes the report, also for an invalid stream; 2 on usage and I/O errors, leaving no file', () => {
    const good = join(dir, 'good.bin');
    const bad = join(dir, 'bad.bin');
    const bytes = multiPass([
      [0, 1, 2, 3],
      [1, 2],
    ]);
    writeFileSync(good, bytes);
    writeFileSync(bad, bytes.subarray(0, 300));
    const ok = cli([good, '-o', join(dir, 'good.html')]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(readFileSync(join(dir, 'good.html'), 'utf8')).toContain('data-status="valid"');
    const inv = cli([bad, '-o', join(dir, 'bad.html'), '--lenient']);
    expect(inv.status, inv.stderr).toBe(0);
    expect(inv.stderr).toContain('INVALID stream (STREAM-TRUNCATED at offset 300)');
    expect(readFileSync(join(dir, 'bad.html'), 'utf8')).toContain('data-offset="300"');
    const missing = cli([join(dir, 'nope.bin'), '-o', join(dir, 'nope.html')]);
    expect(missing.status).toBe(2);
    expect(existsSync(join(dir, 'nope.html'))).toBe(false);
    expect(cli([good]).status).toBe(2); // -o is required
    expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });
});
