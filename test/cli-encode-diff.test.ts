/** stream-inspect encode (JSON → bytes, byte-exact) and diff (exit 0 same / 1 different), through the real executable. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli, runShell } from './support/cli-run.js';
import { hvmWithEmulator, multiPassPv, postcopyRfc, remusWithPartialCheckpoint, simplePv } from './support/cli-streams.js';

let dir: string;
const file = (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cli-encode-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('encode', () => {
  const cases: Array<[string, Uint8Array, string[]]> = [
    ['multi-pass PV with xl header', multiPassPv().bytes, []],
    ['HVM with padded emulator context', hvmWithEmulator().bytes, []],
    ['Remus ending in a partial checkpoint', remusWithPartialCheckpoint().bytes, []],
    ['postcopy RFC', postcopyRfc().bytes, ['--dialect', 'postcopy-rfc']],
  ];
  it.each(cases)('dump --format json | encode reproduces %s byte for byte', async (name, bytes, extra) => {
    const input = file(`${name.replace(/\W+/g, '_')}.bin`, bytes);
    const out = join(dir, `${name.replace(/\W+/g, '_')}.out`);
    const r = await runShell(`$CLI dump "${input}" --format json ${extra.join(' ')} | $CLI encode - -o "${out}"`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Buffer.compare(readFileSync(out), Buffer.from(bytes))).toBe(0);
  });

  it('a document that breaks the schema: exit 1 naming the JSON path, no output file', async () => {
    const dump = await runCli(['dump', file('s.bin', simplePv().bytes), '-f', 'json']);
    const doc = JSON.parse(dump.out) as { items: Array<Record<string, unknown>> };
    (doc.items[3] as { type: unknown }).type = 'two';
    const r = await runCli(['encode', file('bad.json', JSON.stringify(doc)), '-o', join(dir, 'bad.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stream-inspect: invalid JSON document at \/items\/3\/type: /);
    expect(readdirSync(dir).filter((f) => f.includes('bad.bin'))).toEqual([]);
    const notJson = await runCli(['encode', '-', '-o', join(dir, 'x.bin')], '{"format": ');
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^stream-inspect: invalid JSON document at \/: not JSON/);
  });

  it('-o is required (exit 2)', async () => {
    expect((await runCli(['encode', file('e.json', '{}')])).code).toBe(2);
  });
});

describe('diff', () => {
  it('exit 0 for the same stream (also through stdin)', async () => {
    const a = file('a.bin', multiPassPv().bytes);
    const r = await runCli(['diff', a, '-'], multiPassPv().bytes);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^same: /);
  });

  it('exit 1 with the first differing offset and the pages that differ by pfn', async () => {
    const a = simplePv(8, 1);
    const bBytes = Uint8Array.from(a.bytes);
    const pageData = a.recordOffsets[4] + 8 + 8 + 8 * 8; // first page of the PAGE_DATA record
    const changedAt = pageData + 3 * 4096 + 100; // inside pfn 3's page
    bBytes[changedAt] ^= 0xff;
    const r = await runCli(['diff', file('a1.bin', a.bytes), file('b1.bin', bBytes)]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`first difference at offset ${changedAt} (0x${changedAt.toString(16).padStart(8, '0')}) in A`);
    expect(r.out).toContain('summary: headers and records: the same; pages: 1 changed, 0 only in A, 0 only in B (1 run of pfns)');
    expect(r.out).toMatch(/pages that differ \(last copy of each pfn\): 1 — 1 changed/);
    expect(r.out).toContain('pfn 0x3: content differs (NOTAB / NOTAB)');
  });

  it('records added or removed, pages only on one side, and an invalid side (exit 1)', async () => {
    const r = await runCli(['diff', file('m.bin', multiPassPv().bytes), file('s.bin', simplePv(8).bytes), '--json']);
    expect(r.code).toBe(1);
    const d = JSON.parse(r.out) as { same: boolean; typeCounts: Array<{ name: string; a: number; b: number }>; pagesOnlyInA: number };
    expect(d.same).toBe(false);
    expect(d.typeCounts).toContainEqual({ layer: 'libxc', name: 'PAGE_DATA', a: 5, b: 1 });
    expect(d.pagesOnlyInA).toBeGreaterThan(0);
    const s = simplePv(8).bytes;
    const cut = await runCli(['diff', file('s2.bin', s), file('cut.bin', s.subarray(0, s.length - 20))]);
    expect(cut.code).toBe(1);
    expect(cut.out).toContain('B is invalid: STREAM-TRUNCATED');
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['diff', file('only.bin', simplePv().bytes)])).code).toBe(2);
    expect((await runCli(['diff', '-', '-'], simplePv().bytes)).code).toBe(2);
  });
});
