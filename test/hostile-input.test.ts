/**
 * Valid-but-hostile and absurd-length input through the real executable
 * (issue 17 items 9, 10, 12, 13): a clean exit 1 with the rule id at the
 * field's offset, and peak memory bounded by a small multiple of the largest
 * record, measured in the child (never wall-clock).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from './support/cli-run.js';
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
      ['verify', huge], ['verify', big], ['stats', huge], ['dump', huge], ['dump', '-f', 'ndjson', big],
      ['hexdump', '--record', '0', huge], ['extract', huge, '-o', join(dir, 'x.img')],
      ['rewrite', huge, '-o', join(dir, 'x.bin')], ['diff', huge, big],
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
