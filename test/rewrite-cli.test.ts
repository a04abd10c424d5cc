/** stream-inspect rewrite through the real executable: exit statuses, no output on bad input, and the real PV save re-batched. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachPage } from '../src/codec/bodies/page-data.js';
import { readStreamSync, type RecordItem } from '../src/reader/index.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { synth } from '../src/writer/synth.js';
import { ensureCliBuilt, ROOT, runCli } from './support/cli-run.js';

let dir: string;
let multi: Uint8Array;
beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rewrite-cli-'));
  const sink = new MemorySink({ copy: true });
  await synth(sink, { kind: 'pv', pages: 500, passes: 3, xl: true });
  multi = sink.bytes();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stream-inspect rewrite', () => {
  it('--flatten of a multi-pass file: exit 0, a one-line summary, one pass in the output', async () => {
    const input = join(dir, 'multi.bin');
    writeFileSync(input, multi);
    const out = join(dir, 'flat.bin');
    const r = await runCli(['rewrite', input, '-o', out, '--flatten', '--batch', '100']);
    expect(r.stderr).toMatch(/^note: \d+ resent pfn entries folded into their last copies\n$/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/flat\.bin: plain pv stream, .* \(5 PAGE_DATA with 500 pfns\) from .*multi\.bin: plain, .* in 3 pass\(es\)\n$/);
    const s = readStreamSync(readFileSync(out)).readAll().summary;
    expect(s.passes).toHaveLength(1);
    expect(s.distinctPfns).toBe(500);
    rmSync(input);
    rmSync(out);
  });

  it("invalid input: exit 1 with the reader's rule and offset, and no output file", async () => {
    const input = join(dir, 'cut.bin');
    writeFileSync(input, multi.subarray(0, multi.length - 3000));
    for (const extra of [[], ['--flatten'], ['--batch', '16']]) {
      const r = await runCli(['rewrite', input, '-o', join(dir, 'out.bin'), ...extra]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^stream-inspect: STREAM-TRUNCATED at offset \d+/);
      expect(readdirSync(dir)).toEqual(['cut.bin']);
    }
    // the same from a pipe (a single pass that had started writing): still no output
    const r = await runCli(['rewrite', '-', '-o', join(dir, 'out.bin')], multi.subarray(0, multi.length - 3000));
    expect(r.code).toBe(1);
    expect(readdirSync(dir)).toEqual(['cut.bin']);
    rmSync(input);
  });

  it('usage errors exit 2: --batch out of range, --flatten from a pipe without --temp', async () => {
    const r1 = await runCli(['rewrite', '-', '-o', join(dir, 'o.bin'), '--batch', '1025'], multi);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/--batch must be an integer from 1 to 1024/);
    const r2 = await runCli(['rewrite', '-', '-o', join(dir, 'o.bin'), '--flatten'], multi);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/a pipe can be read only once: give a seekable file, or --temp FILE/);
    const r3 = await runCli(['rewrite', '-', '-o', join(dir, 'o.bin'), '--flatten', '--temp', join(dir, 'spool.bin')], multi);
    expect(r3.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['o.bin']);
    rmSync(join(dir, 'o.bin'));
  });

  it('the real Xen 4.17 PV save, --batch 64: same xl header bytes, 64-pfn records, every page unchanged', async () => {
    const gz = join(ROOT, 'fixtures/xen-4.17/pv128-save.bin.gz');
    const out = join(dir, 'pv128-b64.bin');
    const r = await runCli(['rewrite', gz, '-o', out, '--batch', '64']);
    expect(r.code).toBe(0);
    const input = gunzipSync(readFileSync(gz));
    const output = readFileSync(out);
    rmSync(out);
    const a = readStreamSync(input).readAll();
    const b = readStreamSync(output).readAll();
    expect(b.end.status).toBe('complete');
    expect(Buffer.compare(output.subarray(0, b.items[0].length), input.subarray(0, a.items[0].length))).toBe(0);
    const pageRecords = (items: typeof a.items) => items.filter((i): i is RecordItem => i.kind === 'record' && i.record.name === 'PAGE_DATA');
    expect(pageRecords(b.items)).toHaveLength(32768 / 64);
    expect(pageRecords(b.items).every((i) => i.record.body.kind === 'page-data' && i.record.body.pfns.length === 64)).toBe(true);
    const pages = (items: typeof a.items) => {
      const m: Buffer[] = [];
      for (const i of pageRecords(items))
        if (i.record.body.kind === 'page-data') forEachPage(i.record.body, (_pfn, t, p) => m.push(Buffer.concat([Buffer.from([t]), Buffer.from(p ?? [])])));
      return m;
    };
    const pa = pages(a.items);
    const pb = pages(b.items);
    expect(pb.length).toBe(pa.length);
    expect(pb.every((p, i) => Buffer.compare(p, pa[i]) === 0)).toBe(true);
    expect(b.summary.pageTypes).toEqual(a.summary.pageTypes);
    // every other record (static data, vCPU, shared info, ENDs) byte-identical
    const others = (items: typeof a.items, bytes: Buffer) =>
      items
        .filter((i): i is RecordItem => i.kind === 'record' && i.record.name !== 'PAGE_DATA')
        .map((i) => bytes.subarray(i.offset, i.offset + i.length).toString('hex'));
    expect(others(b.items, output)).toEqual(others(a.items, input));
    expect(existsSync(out)).toBe(false);
  });
});
