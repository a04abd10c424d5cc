/** stream-inspect verify (exit 0/1/2, problems, failover, go message), stats and hexdump, through the real executable. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XL_MIGRATE_GO_MESSAGE } from '../src/format/constants.js';
import { ensureCliBuilt, runCli } from './support/cli-run.js';
import { hvmWithEmulator, multiPassPv, remusWithPartialCheckpoint } from './support/cli-streams.js';

let dir: string;
const multi = multiPassPv();
const hvm = hvmWithEmulator();
const file = (name: string, bytes: Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cli-verify-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verify', () => {
  it('exit 0 for a valid stream, with a one-line verdict', async () => {
    const r = await runCli(['verify', file('multi.bin', multi.bytes)]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/multi\.bin: VALID — xl container, libxc v3, x86 PV, Xen 4\.17, 14 records, 251,796 bytes\n$/);
  });

  it('exit 1 for an invalid stream, the problem on one line with offset and rule id', async () => {
    const cut = file('cut.bin', multi.bytes.subarray(0, multi.bytes.length - 8)); // no libxl END
    const r = await runCli(['verify', cut]);
    expect(r.code).toBe(1);
    const n = multi.bytes.length - 8;
    expect(r.out).toContain(`error STREAM-TRUNCATED at offset ${n} (0x${n.toString(16).padStart(8, '0')}): `);
    expect(r.out).toMatch(/cut\.bin: INVALID \(STREAM-TRUNCATED\)/);
  });

  it('non-zero padding: invalid when strict, a warning line with --lenient (exit 0)', async () => {
    const bad = Uint8Array.from(hvm.bytes);
    const emu = hvm.recordOffsets[hvm.recordOffsets.length - 2]; // EMULATOR_CONTEXT: body 31, 1 padding byte
    bad[emu + 8 + 31] = 0xaa;
    const p = file('pad.bin', bad);
    const strict = await runCli(['verify', p]);
    expect(strict.code).toBe(1);
    expect(strict.out).toContain(`error RECORD-PADDING-NONZERO at offset ${emu + 8 + 31}`);
    const lenient = await runCli(['verify', p, '--lenient']);
    expect(lenient.code).toBe(0);
    expect(lenient.out).toContain(`warning RECORD-PADDING-NONZERO at offset ${emu + 8 + 31}`);
    expect(lenient.out).toContain('VALID');
  });

  it('a checkpointed stream that ends by failover is valid and says so', async () => {
    const r = await runCli(['verify', file('remus.bin', remusWithPartialCheckpoint().bytes)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('note STREAM-PARTIAL-CHECKPOINT-DISCARDED');
    expect(r.out).toMatch(/VALID — .*remus stream.*ended by failover after 2 complete checkpoint\(s\)/);
  });

  it("names xl migrate's go message after END instead of calling it garbage", async () => {
    const capture = file('capture.bin', Buffer.concat([multi.bytes, Buffer.from(XL_MIGRATE_GO_MESSAGE, 'latin1')]));
    const r = await runCli(['verify', capture]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('note STREAM-TRAILING-GO-MESSAGE');
    expect(r.out).toContain("the 44 bytes after END are xl migrate's go message");
    const garbage = await runCli(['verify', file('garbage.bin', Buffer.concat([multi.bytes, Buffer.from('junk')]))]);
    expect(garbage.code).toBe(1);
    expect(garbage.out).toContain('error STREAM-TRAILING-BYTES');
  });

  it('--json, stdin, and exit 2 for usage / I/O errors', async () => {
    const j = await runCli(['verify', '-', '--json'], multi.bytes);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toMatchObject({ input: '(stdin)', status: 'valid', end: { status: 'complete' } });
    expect((await runCli(['verify', join(dir, 'missing.bin')])).code).toBe(2);
    expect((await runCli(['verify'])).code).toBe(2);
    expect((await runCli(['verify', join(dir, 'x'), '--mode', 'sideways'])).code).toBe(2);
  });

  it('not a stream at all: exit 1 with what it looks like', async () => {
    const r = await runCli(['verify', file('text.txt', Buffer.from('hello, this is not a migration stream\n'))]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/error STREAM-NOT-V2 at offset 0 .*looks like text/);
  });
});

describe('stats', () => {
  it('text: records per type, passes, resent pfns, page types', async () => {
    const r = await runCli(['stats', file('multi.bin', multi.bytes)]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/libxc {2}PAGE_DATA \(0x1\) +5 /);
    expect(r.out).toMatch(/resent pfns: +9\n/);
    expect(r.out).toMatch(/distinct pfns: +49\n/);
    expect(r.out).toMatch(/XTAB +1\n/);
    expect(r.out.match(/^ {2}\d +- /gm)).toHaveLength(3); // three passes
  });

  it('--json: the reader summary', async () => {
    const r = await runCli(['stats', file('remus.bin', remusWithPartialCheckpoint().bytes), '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as { mode: string; checkpoints: number; passes: Array<{ checkpoint?: number }>; end: { status: string } };
    expect(s.mode).toBe('remus');
    expect(s.checkpoints).toBe(2);
    expect(s.end.status).toBe('failover');
    expect(s.passes.length).toBe(3);
  });
});

describe('hexdump', () => {
  it('--record N: absolute offsets, header / body / padding marked, bytes as in the file', async () => {
    const p = file('hvm.bin', hvm.bytes);
    const index = hvm.recordOffsets.length - 2; // EMULATOR_CONTEXT, 1 byte of padding
    const at = hvm.recordOffsets[index];
    const r = await runCli(['hexdump', p, '--record', String(index)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`-- record header: type 0x3 (EMULATOR_CONTEXT), body_length 31 at 0x${at.toString(16).padStart(8, '0')}`);
    expect(r.out).toContain(
      `-- body (31 bytes) — Xen's "Emulator context": Emulator sub-header + the device model's own save blob (HVM only). at 0x${(at + 8).toString(16).padStart(8, '0')}`,
    );
    expect(r.out).toContain(`-- padding (1 bytes) at 0x${(at + 39).toString(16).padStart(8, '0')}`);
    // Every hex line's bytes are the file's bytes at that line's offset.
    const lines = r.out.split('\n').filter((l) => /^0x[0-9a-f]{8} {2}[0-9a-f]{2} /.test(l));
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) {
      const off = parseInt(l.slice(2, 10), 16);
      const hexBytes = l
        .slice(12, 12 + 16 * 3)
        .trim()
        .split(/\s+/)
        .map((h) => parseInt(h, 16));
      expect(hexBytes).toEqual([...hvm.bytes.subarray(off, off + hexBytes.length)]);
    }
  });

  it('--offset inside a header or record picks what holds it; bad targets are usage errors', async () => {
    const p = file('hvm.bin', hvm.bytes);
    const header = await runCli(['hexdump', p, '--offset', '0x10']);
    expect(header.code).toBe(0);
    expect(header.out).toContain('-- xl header (magic');
    expect(header.out).toContain('0x00000010  2c 20 78 6c 20 66 6f 72 6d 61 74 0a 20 00 20 0d');
    const inside = await runCli(['hexdump', p, '--offset', String(hvm.recordOffsets[2] + 20)]);
    expect(inside.out).toMatch(/#2 +PAGE_DATA/);
    expect((await runCli(['hexdump', p, '--record', '99'])).code).toBe(2);
    expect((await runCli(['hexdump', p])).code).toBe(2);
    expect((await runCli(['hexdump', p, '--record', '1', '--offset', '2'])).code).toBe(2);
  });
});
