/**
 * The HTML report in a real browser (headless Chromium over the DevTools
 * Protocol, test/support/browser.ts): the charts exist with the right number
 * of bars and cells, the config is shown, an invalid stream shows its error
 * with the offset, a screenshot is taken, and the page makes no network
 * request (every request is recorded; only the report's own file:// document
 * may appear) nor any CSP violation. Skipped, with the reason in the test
 * name, when there is no Chromium (CI installs Debian's chromium).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../src/report/index.js';
import { readStream, readStreamSync } from '../src/reader/stream-reader.js';
import { concat, emulatorContext, hvmLibxc, libxlHeader, rec, xenstoreData, xlHeader } from './support/build.js';
import { Browser, findChromium, type LoadedPage } from './support/browser.js';

const ROOT = resolve(import.meta.dirname, '..');
const HVM128 = join(ROOT, 'fixtures/xen-4.17/hvm128-save.bin.gz');
const CONFIG = '{"c_info":{"type":"hvm","name":"report-browser"},"b_info":{"max_memkb":16384}}\0';
const PASSES = [[0, 1, 2, 3, 4, 5, 6, 7], [1, 2, 5], [2]];

function multiPass(passes: number[][]): Uint8Array {
  return concat([xlHeader(CONFIG), libxlHeader(), rec('libxl', 'LIBXC_CONTEXT'), ...hvmLibxc(passes), xenstoreData(), emulatorContext(), rec('libxl', 'END')]);
}

/** The multi-pass stream with the type of its X86_TSC_INFO record (after the pages) overwritten: invalid at that record. */
function invalidStream(): { bytes: Uint8Array; offset: number } {
  const bytes = multiPass(PASSES).slice();
  const tsc = [...readStreamSync(bytes)].find((i) => i.kind === 'record' && i.record.name === 'X86_TSC_INFO');
  if (!tsc) throw new Error('no X86_TSC_INFO in the test stream');
  new DataView(bytes.buffer).setUint32(tsc.offset, 0x7fff_0000, true);
  return { bytes, offset: tsc.offset };
}

/** PNG width and height from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const chromium = findChromium();

if (chromium === undefined) {
  it('the HTML report in headless Chromium', (ctx) => {
    ctx.skip('no Chromium found (apt-get install chromium, or set $CHROMIUM): the HTML report was not checked in a browser');
  });
}

describe.runIf(chromium !== undefined)('the HTML report in headless Chromium', () => {
  let browser: Browser;
  // Made in beforeAll, not at load time: a skipped suite is still loaded but runs no hooks.
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'report-browser-'));
    browser = await Browser.launch(chromium as string);
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function openReport(name: string, html: string): Promise<{ page: LoadedPage; path: string }> {
    const path = join(dir, `${name}.html`);
    writeFileSync(path, html);
    return { page: await browser.open(path), path };
  }

  function expectIsolated(page: LoadedPage, path: string): void {
    expect(page.requests).toEqual([pathToFileURL(path).href]);
    expect(page.failed).toEqual([]);
    expect(page.errors).toEqual([]);
  }

  it('multi-pass stream: one bar per pass, stacked resent pages, bytes by type, pfn cells, config, working toolbar, no network', async () => {
    const bytes = multiPass(PASSES);
    const summary = readStreamSync(bytes).readAll().summary;
    const { html } = await buildReport(bytes, { inputName: 'multi-pass.bin' });
    const { page, path } = await openReport('multi', html);

    const bars = await page.evaluate<
      Array<{ pages: number; fresh: number; resent: number }>
    >(`[...document.querySelectorAll('#chart-passes g.bar')].map((g) => ({
      pages: Number(g.dataset.pages),
      fresh: g.querySelector('rect.fresh').getBoundingClientRect().height,
      resent: g.querySelector('rect.resent')?.getBoundingClientRect().height ?? 0 }))`);
    expect(summary.passes).toHaveLength(3);
    expect(bars).toHaveLength(summary.passes.length);
    expect(bars.map((b) => b.pages)).toEqual(summary.passes.map((p) => p.pages));
    // Drawn to scale: pass 1 (8 new pages) is 8× as tall as pass 3 (1 resent page); pass 2 is all resent.
    expect(bars[0].fresh).toBeGreaterThan(0);
    expect(bars[0].resent).toBe(0);
    expect(bars[1].fresh).toBeCloseTo(0, 0);
    expect(bars[0].fresh / bars[2].resent).toBeCloseTo(8, 1);

    expect(await page.evaluate<number>(`document.querySelectorAll('#chart-bytes g.bar').length`)).toBe(summary.byType.length);
    expect(await page.evaluate<number>(`document.querySelectorAll('#chart-pfn rect.cell').length`)).toBe(8);
    expect(await page.evaluate<number[]>(`[...document.querySelectorAll('#chart-pfn rect.cell')].map((c) => Number(c.dataset.entries))`)).toEqual([
      1, 2, 3, 1, 1, 2, 1, 1,
    ]);
    const segs = await page.evaluate<number>(`document.querySelectorAll('#chart-timeline g.seg').length`);
    expect(segs).toBeGreaterThanOrEqual(10);
    expect(JSON.parse(await page.evaluate<string>(`document.getElementById('xl-config').textContent`))).toEqual(JSON.parse(CONFIG.slice(0, -1)));
    expect(await page.evaluate<string>(`document.getElementById('verdict').dataset.status`)).toBe('valid');

    // The inline script ran (allowed by its CSP hash): the toolbar shows and expands every row.
    expect(await page.evaluate<boolean>(`document.getElementById('row-tools').hidden`)).toBe(false);
    const rows = await page.evaluate<number>(`document.querySelectorAll('details.rec').length`);
    expect(await page.evaluate<number>(`document.getElementById('expand-all').click(), document.querySelectorAll('details.rec[open]').length`)).toBe(rows);
    expect(
      await page.evaluate<string>(
        `document.querySelector('details.rec.run .hexdump')?.textContent ?? document.querySelector('details.rec .hexdump').textContent`,
      ),
    ).toMatch(/^0x[0-9a-f]{8} {2}[0-9a-f]{2} /);

    const png = await page.screenshot();
    const size = pngSize(png);
    expect(size.width).toBe(1280);
    expect(size.height).toBeGreaterThan(900);
    writeFileSync(join(dir, 'multi.png'), png);
    expectIsolated(page, path);
  });

  it('real Xen 4.17 HVM save file: bars match the summary, the 1,020 PAGE_DATA records are one row, config shown, small file, no network', async () => {
    const reader = readStream(HVM128);
    for await (const _ of reader) void _;
    const summary = reader.summary();
    const { html } = await buildReport(HVM128, { inputName: 'hvm128-save.bin.gz' });
    expect(Buffer.byteLength(html)).toBeLessThan(1 << 20);
    const { page, path } = await openReport('hvm128', html);
    expect(await page.evaluate<number>(`document.querySelectorAll('#chart-passes g.bar').length`)).toBe(summary.passes.length);
    expect(await page.evaluate<number>(`document.querySelectorAll('#chart-bytes g.bar').length`)).toBe(summary.byType.length);
    const cells = await page.evaluate<number>(`document.querySelectorAll('#chart-pfn rect.cell').length`);
    expect(cells).toBeGreaterThan(0);
    expect(cells).toBeLessThanOrEqual(1024);
    expect(await page.evaluate<string[]>(`[...document.querySelectorAll('details.rec.run')].map((d) => d.dataset.records)`)).toEqual(['1020']);
    expect(await page.evaluate<string>(`document.getElementById('xl-config').textContent`)).toContain('"name": "hvm128"');
    expect(await page.evaluate<string>(`document.getElementById('verdict').dataset.status`)).toBe('valid');
    // The timeline is to scale: the PAGE_DATA segment covers almost all of the strip.
    const widths = await page.evaluate<Array<{ name: string; w: number }>>(
      `[...document.querySelectorAll('#chart-timeline g.seg')].map((g) => ({ name: g.dataset.name, w: g.querySelector('rect:not(.layer-band)').getBoundingClientRect().width }))`,
    );
    const total = widths.reduce((a, s) => a + s.w, 0);
    expect((widths.find((s) => s.name === 'PAGE_DATA')?.w ?? 0) / total).toBeGreaterThan(0.95);
    pngSize(await page.screenshot());
    expectIsolated(page, path);
  });

  it('invalid stream: shows what was read, and the error with its rule id and offset', async () => {
    const { bytes, offset } = invalidStream();
    const { data, html } = await buildReport(bytes, { inputName: 'invalid.bin' });
    const { page, path } = await openReport('invalid', html);
    expect(await page.evaluate<string>(`document.getElementById('verdict').dataset.status`)).toBe('invalid');
    const err = await page.evaluate<{ rule: string; offset: string; text: string }>(
      `(() => { const e = document.getElementById('stream-error'); return { rule: e.dataset.rule, offset: e.dataset.offset, text: e.textContent }; })()`,
    );
    expect(err.rule).toBe(data.verdict.error?.ruleId);
    expect(err.rule).toMatch(/^[A-Z0-9-]+$/);
    expect(Number(err.offset)).toBe(offset);
    expect(err.text).toContain(`offset ${offset.toLocaleString('en-US')} (0x${offset.toString(16).padStart(8, '0')})`);
    expect(await page.evaluate<string>(`document.getElementById('row-error').textContent`)).toContain(err.rule);
    expect(await page.evaluate<number>(`document.querySelectorAll('#chart-timeline .marker-error').length`)).toBe(1);
    // What was read before the error is there: the three passes.
    expect(await page.evaluate<number>(`document.querySelectorAll('#chart-passes g.bar').length`)).toBe(3);
    writeFileSync(join(dir, 'invalid.png'), await page.screenshot());
    expectIsolated(page, path);
  });

  it("the network check can fail: a request from a page is seen, and the report's CSP blocks an injected one", async () => {
    const leaky = await openReport('leaky', '<!DOCTYPE html><title>leaky</title><img src="http://192.0.2.1/pixel.png">');
    expect(leaky.page.requests).toContain('http://192.0.2.1/pixel.png');

    const { html } = await buildReport(multiPass([[0, 1]]));
    const injected = await openReport('injected', html.replace('<main>', '<main><img src="http://192.0.2.1/pixel.png">'));
    // Chromium announces the request, then blocks it before it leaves: a CSP block, and a CSP violation logged.
    expect(injected.page.failed).toContainEqual(expect.objectContaining({ url: 'http://192.0.2.1/pixel.png', blockedReason: 'csp' }));
    expect(injected.page.errors.join('\n')).toMatch(/Content Security Policy|img-src/);
  });
});
