/** stream-inspect extract: the memory the stream implies (last pass wins, checkpoints, postcopy), sparse, blobs, no partial files. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from './support/cli-run.js';
import {
  EMULATOR_BLOB,
  expectedImage,
  hvmWithEmulator,
  hvmWithPages,
  multiPassPv,
  NOTAB,
  pageContent,
  PAGE,
  postcopyRfc,
  remusWithPartialCheckpoint,
  simplePv,
  XTAB,
} from './support/cli-streams.js';

let dir: string;
const file = (name: string, bytes: Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

beforeAll(async () => {
  await ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cli-extract-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('extract', () => {
  it('a multi-pass stream gives the memory the last pass implies', async () => {
    const s = multiPassPv();
    const out = join(dir, 'multi.raw');
    const r = await runCli(['extract', file('multi.bin', s.bytes), '-o', out]);
    expect(r.code).toBe(0);
    const image = readFileSync(out);
    // P2M end pfn 63: the image covers pfns 0–63.
    expect(image.length).toBe(64 * PAGE);
    expect(Buffer.compare(image, Buffer.from(expectedImage(s.memory, 63)))).toBe(0);
    // Spot checks against what the passes wrote: pfn 9 from pass 3, 12 from pass 2, 10 went away, 60 new in pass 3.
    const page = (pfn: number) => image.subarray(pfn * PAGE, (pfn + 1) * PAGE);
    expect(page(9).equals(pageContent(9, 3))).toBe(true);
    expect(page(12).equals(pageContent(12, 2))).toBe(true);
    expect(page(20).equals(pageContent(20, 1))).toBe(true);
    expect(page(10).every((b) => b === 0)).toBe(true);
    expect(page(60).equals(pageContent(60, 3))).toBe(true);
    expect(r.out).toContain('48 pages of data');
  });

  it('is sparse: pages never sent take no disk blocks', async () => {
    const s = hvmWithEmulator(); // pfns 0–3 and 0xfeff: a 255 MiB image with 5 pages
    const out = join(dir, 'hvm.raw');
    const r = await runCli(['extract', file('hvm.bin', s.bytes), '-o', out]);
    expect(r.code).toBe(0);
    const st = statSync(out);
    expect(st.size).toBe((0xfeff + 1) * PAGE);
    expect(st.blocks * 512).toBeLessThan(1024 * 1024);
    const image = readFileSync(out);
    expect(Buffer.compare(image, Buffer.from(expectedImage(s.memory, 0xfeff)))).toBe(0);
  });

  it('a checkpointed stream gives the state of the last complete checkpoint, not the partial one after it', async () => {
    const s = remusWithPartialCheckpoint();
    const out = join(dir, 'remus.raw');
    const r = await runCli(['extract', file('remus.bin', s.bytes), '-o', out]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('state of checkpoint 2');
    const image = readFileSync(out);
    expect(Buffer.compare(image, Buffer.from(expectedImage(s.memoryAtCheckpoint2, s.maxPfnAtCheckpoint2)))).toBe(0);
    expect(image.subarray(1 * PAGE, 2 * PAGE).equals(pageContent(1, 2))).toBe(true); // not version 3
    expect(image.subarray(30 * PAGE, 31 * PAGE).every((b) => b === 0)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('undo'))).toEqual([]);
  });

  it('a postcopy stream includes the POSTCOPY_PAGE_DATA pages', async () => {
    const s = postcopyRfc();
    const out = join(dir, 'pc.raw');
    const r = await runCli(['extract', file('pc.bin', s.bytes), '--dialect', 'postcopy-rfc', '-o', out]);
    expect(r.code).toBe(0);
    const image = readFileSync(out);
    expect(Buffer.compare(image, Buffer.from(expectedImage(s.memory, 5)))).toBe(0);
    expect(image.subarray(5 * PAGE, 6 * PAGE).equals(pageContent(5, 1))).toBe(true);
  });

  it('--emulator-context and --config write the blobs; stdin works', async () => {
    const s = hvmWithEmulator();
    const emu = join(dir, 'qemu.state');
    const cfg = join(dir, 'guest.json');
    const r = await runCli(['extract', '-', '--emulator-context', emu, '--config', cfg], s.bytes);
    expect(r.code).toBe(0);
    expect(readFileSync(emu).equals(Buffer.from(EMULATOR_BLOB))).toBe(true);
    expect(readFileSync(cfg, 'utf8')).toBe('{"c_info":{"type":"hvm","name":"h"}}');
  });

  it('an invalid stream leaves no output file at all (exit 1)', async () => {
    const s = multiPassPv();
    const cut = file('cut.bin', s.bytes.subarray(0, s.recordOffsets[6] + 5000));
    const before = readdirSync(dir).length;
    const r = await runCli(['extract', cut, '-o', join(dir, 'cut.raw'), '--config', join(dir, 'cut.json')]);
    expect(r.code).toBe(1);
    // The reader's truncation error carries the record index; its text names the record.
    expect(r.stderr).toMatch(
      /^stream-inspect: STREAM-TRUNCATED at offset \d+ \(0x[0-9a-f]+\), record #6 libxc PAGE_DATA: the stream ends inside libxc record #6 \(PAGE_DATA\), which starts at offset \d+/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(dir).length).toBe(before);
  });

  it('nothing to extract, or a blob the stream lacks: usage error (exit 2), no file', async () => {
    const p = file('m.bin', multiPassPv().bytes);
    expect((await runCli(['extract', p])).code).toBe(2);
    const r = await runCli(['extract', p, '-o', join(dir, 'm.raw'), '--emulator-context', join(dir, 'm.emu')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no EMULATOR_CONTEXT record');
    expect(readdirSync(dir).filter((f) => f.startsWith('m.') || f.startsWith('.m.'))).toEqual(['m.bin']);
  });

  describe('huge but legal pfns (up to 2^52 − 1): refused above --max-image-size, never a raw Node error', () => {
    const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
    for (const [pfn, type] of [
      [2 ** 31, NOTAB],
      [2 ** 40, NOTAB],
      [2 ** 52 - 1, NOTAB],
      [2 ** 45, XTAB],
    ] as const) {
      it(`pfn 0x${pfn.toString(16)} (${type === XTAB ? 'XTAB' : 'with data'}): one line naming the pfn and its record's offset, exit 2, no file`, async () => {
        const s = hvmWithPages([
          [{ pfn: 0, type: NOTAB }],
          [
            { pfn: 1, type: NOTAB },
            { pfn, type },
          ],
        ]);
        const at = s.recordOffsets[3]; // LIBXC_CONTEXT, STATIC_DATA_END, PAGE_DATA, PAGE_DATA
        const name = `huge-${pfn.toString(16)}`;
        const r = await runCli(['extract', file(`${name}.bin`, s.bytes), '-o', join(dir, `${name}.raw`)]);
        expect(r.code).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain(`pfn ${pfn} (0x${pfn.toString(16)}) of the record at offset ${at} (${hex(at)})`);
        expect(r.stderr).toContain('more than the limit of 1.0 TiB');
        expect(r.stderr).toContain('--max-image-size');
        expect(r.stderr).not.toMatch(/EFBIG|out of range|internal error/);
        expect(readdirSync(dir).filter((f) => f.includes(name))).toEqual([`${name}.bin`]);
      });
    }

    it('--max-image-size sets the limit: refused just above it, extracted at it', async () => {
      const s = hvmWithPages([
        [
          { pfn: 0, type: NOTAB },
          { pfn: 255, type: NOTAB },
        ],
      ]);
      const input = file('limit.bin', s.bytes);
      const refused = await runCli(['extract', input, '-o', join(dir, 'limit.raw'), '--max-image-size', '1020K']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`pfn 255 (0xff) of the record at offset ${s.recordOffsets[2]}`);
      expect(refused.stderr).toContain('would make the memory image 1.0 MiB (sparse), more than the limit of 1020.0 KiB');
      const ok = await runCli(['extract', input, '-o', join(dir, 'limit.raw'), '--max-image-size', '1M']);
      expect(ok.code).toBe(0);
      expect(statSync(join(dir, 'limit.raw')).size).toBe(256 * PAGE);
    });

    it("the P2M's end pfn counts too (PV: the image is sized from it)", async () => {
      const s = simplePv(8, 1, 63);
      const r = await runCli(['extract', file('p2m.bin', s.bytes), '-o', join(dir, 'p2m.raw'), '--max-image-size', '128K']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`pfn 63 (0x3f) of the record at offset ${s.recordOffsets[3]}`); // LIBXC_CONTEXT, PV_INFO, STATIC_DATA_END, P2M_FRAMES
      expect(readdirSync(dir).filter((f) => f.startsWith('p2m.') || f.startsWith('.p2m.'))).toEqual(['p2m.bin']);
    });

    it('a --max-image-size that is not a size, or beyond 2^53 − 1 bytes: usage error', async () => {
      const input = file('m11.bin', simplePv().bytes);
      for (const bad of ['lots', '0', '9000T']) {
        const r = await runCli(['extract', input, '-o', join(dir, 'm11.raw'), '--max-image-size', bad]);
        expect(r.code, bad).toBe(2);
        expect(r.stderr, bad).toMatch(/^stream-inspect: --max-image-size: /);
      }
    });
  });
});
