/**
 * Valid-but-hostile and absurd-length input through the real executable
 * (issue 17 items 9, 10, 12, 13): a clean exit 1 with the rule id at the
 * field's offset, and peak memory bounded by a small multiple of the largest
 * record, measured in the child (never wall-clock).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { ensureCliBuilt, runCli } from './support/cli-run.js';
import { runCliPeak } from './support/cli-peak.js';
import { hvmWithEmulator } from './support/cli-streams.js';
import { hvmStream, manyHvmParams, manyMsrs, tinyXenstorePairs, xtabSpread } from './support/hostile-streams.js';
import { minimalXl } from './support/build.js';

let dir: string;
const file = (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cli-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The minimal xl stream with optional_data_len replaced. */
function xlClaiming(optionalDataLength: number): Uint8Array {
  const b = minimalXl();
  new DataView(b.buffer, b.byteOffset).setUint32(44, optionalDataLength, true);
  return b;
}

describe('xl optional_data_len beyond the limit (XL-OPTIONAL-DATA-MAX)', () => {
  const RULE = /XL-OPTIONAL-DATA-MAX at offset 44 \(0x0*2c\)/;

  it('every reading command exits 1 with the rule id at offset 44, no stack trace', async () => {
    const huge = file('xl-ffffffff.bin', xlClaiming(0xffffffff));
    const big = file('xl-1.5g.bin', xlClaiming(0x6000_0000));
    const commands: string[][] = [
      ['verify', huge],
      ['verify', big],
      ['stats', huge],
      ['dump', huge],
      ['dump', '-f', 'ndjson', big],
      ['hexdump', '--record', '0', huge],
      ['extract', huge, '-o', join(dir, 'x.img')],
      ['rewrite', huge, '-o', join(dir, 'x.bin')],
      ['diff', huge, big],
    ];
    for (const args of commands) {
      const r = await runCli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.out + r.stderr).toMatch(RULE);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // report writes its report of the invalid stream.
    const r = await runCli(['report', huge, '-o', join(dir, 'r.html')]);
    expect(r.stderr).toMatch(/INVALID stream \(XL-OPTIONAL-DATA-MAX at offset 44\)/);
  });
});

describe('encode reads its document item by item', () => {
  const MiB = 1024 * 1024;

  it('endless NUL bytes on stdin (encode - < /dev/zero): exit 1 at byte 0, without reading on', async () => {
    const zeros = function* () {
      for (;;) yield new Uint8Array(MiB);
    };
    const r = await runCliPeak(['encode', '-', '-o', join(dir, 'z.bin')], zeros);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stream-inspect: invalid JSON document at \/: not JSON: byte 0x00 at byte 0 where '\{' was expected\n$/);
    expect(existsSync(join(dir, 'z.bin'))).toBe(false);
  });

  it('a gzip of 128 MiB of whitespace: bounded memory, then "not JSON" at the end', async () => {
    const spaces = gzipSync(Buffer.concat([Buffer.from('{"format":"xen-migration-stream/1","dialect":"upstream","items":['), Buffer.alloc(128 * MiB, 0x20)]), {
      level: 1,
    });
    const r = await runCliPeak(['encode', file('spaces.json.gz', spaces), '-o', join(dir, 'sp.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not JSON: the end of the input at byte \d+ where the rest of the document was expected/);
    // The whole text would be 128 MiB, then a 128 MiB string; item by item it is never held.
    expect(r.peakMiB).toBeLessThan(160);
  });

  it('an item above --max-item-json is refused at its path', async () => {
    const dump = await runCli(['dump', file('h.bin', hvmWithEmulator().bytes), '-f', 'json']);
    const doc = file('h.json', dump.stdout);
    const r = await runCli(['encode', doc, '-o', join(dir, 'h2.bin'), '--max-item-json', '64']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid JSON document at \/items\/\d+: item longer than 64 bytes of JSON/);
    const ok = await runCli(['encode', doc, '-o', join(dir, 'h2.bin')]);
    expect(ok.code).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'h2.bin')), Buffer.from(hvmWithEmulator().bytes))).toBe(0);
  });

  it('2^64 in a u64 field is refused with its JSON path, not wrapped to 0', async () => {
    const dump = await runCli(['dump', file('h3.bin', hvmWithEmulator().bytes), '-f', 'json']);
    const doc = JSON.parse(dump.out) as { items: Array<{ body?: { kind?: string; nsec?: string } }> };
    const i = doc.items.findIndex((it) => it.body?.kind === 'tsc-info');
    for (const bad of ['0x10000000000000000', `0x${'f'.repeat(17)}`]) {
      (doc.items[i].body as { nsec: string }).nsec = bad;
      const r = await runCli(['encode', '-', '-o', join(dir, 'u64.bin')], JSON.stringify(doc));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`invalid JSON document at /items/${i}/body/nsec: `);
    }
    // Leading zeros still read as the same value.
    (doc.items[i].body as { nsec: string }).nsec = '0x000000000000000000000000';
    expect((await runCli(['encode', '-', '-o', join(dir, 'u64.bin')], JSON.stringify(doc))).code).toBe(0);
  });
});

describe('pfns spread thinly over a huge span cost memory per pfn, not per span', () => {
  // 524,288 XTAB entries at pfn k × 512 (a 4 MiB stream naming a 1 TiB span). Before: verify and
  // stats ~210 MiB (a 64-byte block per pfn, twice), diff ~1.3 GiB (20 KiB per 4096-pfn block).
  const N = 524_288;
  let input: string;
  beforeAll(() => {
    input = file('xtab-spread.bin', xtabSpread(N));
  });

  it.each([['verify'], ['stats']])('%s', async (command) => {
    const r = await runCliPeak([command, input]);
    expect(r.code).toBe(0);
    expect(r.peakMiB).toBeLessThan(150);
  });

  it('diff', async () => {
    const r = await runCliPeak(['diff', input, input]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.peakMiB).toBeLessThan(200);
  });
});

describe('records of millions of tiny list entries cost a small multiple of the record', () => {
  // 16 MiB records. Before: verify ~400 MiB and dump -f ndjson ~900 MiB for the xenstore
  // pairs (two strings and an array per 4 bytes), ~200 MiB for MSRs and HVM params.
  const MiB = 1024 * 1024;
  const inputs: Record<string, string> = {};
  beforeAll(() => {
    inputs.xenstore = file('xenstore16.bin', hvmStream({ libxl: [tinyXenstorePairs(16 * MiB)] }));
    inputs.msr = file('msr16.bin', hvmStream({ staticData: [manyMsrs(16 * MiB)] }));
    inputs.params = file('params16.bin', hvmStream({ params: manyHvmParams(16 * MiB) }));
  });

  it.each([
    ['xenstore', ['verify'], 150],
    ['xenstore', ['dump', '-f', 'ndjson'], 170],
    ['xenstore', ['dump'], 150],
    ['xenstore', ['stats'], 150],
    ['msr', ['verify'], 120],
    ['msr', ['dump', '-f', 'json'], 140],
    ['params', ['verify'], 120],
    ['params', ['dump', '-f', 'ndjson'], 140],
  ] as Array<[string, string[], number]>)('%s: %j', async (name, command, boundMiB) => {
    const r = await runCliPeak([...command, inputs[name]]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.peakMiB).toBeLessThan(boundMiB);
  });

  it('dump text leaves out what it does not show, and says how much', async () => {
    const r = await runCli(['dump', inputs.xenstore]);
    expect(r.out).toContain(`… (+${(4 * MiB - 32).toLocaleString('en-US').replace(/,/g, '')} more keys)`);
  });

  it('rewrite and report keep to the bound; rewrite gives the same bytes', async () => {
    const out = join(dir, 'xenstore16-rw.bin');
    const r = await runCliPeak(['rewrite', inputs.xenstore, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.peakMiB).toBeLessThan(200);
    expect(Buffer.compare(readFileSync(out), readFileSync(inputs.xenstore))).toBe(0);
    const rep = await runCliPeak(['report', inputs.xenstore, '-o', join(dir, 'x.html')]);
    expect(rep.code).toBe(0);
    expect(rep.peakMiB).toBeLessThan(170);
  });
});
