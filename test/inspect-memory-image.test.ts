/** MemoryImage: last copy wins, XTAB clears, rollback of an unfinished checkpoint through a spilled undo log, the image size limit. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageSizeError, MemoryImage } from '../src/inspect/memory-image.js';
import { AtomicOutput } from '../src/io/atomic-output.js';
import { concatBytes } from '../src/codec/bytes.js';
import { expectedImage, NOTAB, PAGE, pageContent, XTAB } from './support/cli-streams.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'inspect-image-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function record(pfns: number[], version: number, type = NOTAB) {
  return { entries: { pfns, types: pfns.map(() => type) }, data: type === XTAB ? new Uint8Array(0) : concatBytes(pfns.map((p) => pageContent(p, version))) };
}

describe('MemoryImage', () => {
  it('rolls back an unfinished checkpoint that overwrote more pages than the undo buffer holds', async () => {
    const path = join(dir, 'img.raw');
    const file = await AtomicOutput.open(path, { positional: true });
    const image = new MemoryImage(file, dir);
    const expected = new Map<number, Uint8Array>();
    // Checkpoint 1: pfns 0–2999.
    const all = [...Array(3000).keys()];
    for (let i = 0; i < all.length; i += 500) {
      const r = record(all.slice(i, i + 500), 1);
      await image.apply(r.entries, r.data, 0);
    }
    for (const p of all) expected.set(p, pageContent(p, 1));
    // pfn 7 goes away before the checkpoint completes.
    await image.apply(record([7], 1, XTAB).entries, new Uint8Array(0), 0);
    expected.delete(7);
    await image.commit();
    // Checkpoint 2 (never completed): overwrites 2,500 committed pages, brings 7 back, adds 5000.
    const over = all.slice(0, 2500);
    for (let i = 0; i < over.length; i += 700) {
      const r = record(over.slice(i, i + 700), 2);
      await image.apply(r.entries, r.data, 0);
    }
    const extra = record([5000], 2);
    await image.apply(extra.entries, extra.data, 0);
    expect(readdirSync(dir).some((f) => f.includes('undo'))).toBe(true); // spilled to disk
    const restored = await image.rollback();
    expect(restored).toBe(2501);
    await image.finish();
    await file.commit();
    expect(readdirSync(dir).filter((f) => f.includes('undo'))).toEqual([]);
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(3000 * PAGE);
    expect(Buffer.compare(bytes, Buffer.from(expectedImage(expected, 2999)))).toBe(0);
    expect(image.pages).toBe(2999);
  });

  it('one record with several runs, a pfn twice and an XTAB for a pfn it wrote earlier: the last entry wins', async () => {
    const path = join(dir, 'order.raw');
    const file = await AtomicOutput.open(path, { positional: true });
    const image = new MemoryImage(file, dir);
    const base = record([...Array(40).keys()], 1);
    await image.apply(base.entries, base.data, 0);
    // Runs 10–19 and 30–31, then 12 again (newer), 15 goes away, 100 is new.
    const pfns = [...Array(10).keys()].map((i) => 10 + i).concat([30, 31, 12, 15, 100]);
    const types = pfns.map((p, i) => (p === 15 && i > 9 ? XTAB : NOTAB));
    const data = concatBytes(pfns.flatMap((p, i) => (types[i] === XTAB ? [] : [pageContent(p, i >= 12 ? 3 : 2)])));
    await image.apply({ pfns, types }, data, 0);
    await image.commit();
    await image.finish();
    await file.commit();
    const expected = new Map<number, Uint8Array>();
    for (let p = 0; p < 40; p++) expected.set(p, pageContent(p, 1));
    for (const p of [...Array(10).keys()].map((i) => 10 + i).concat([30, 31])) expected.set(p, pageContent(p, 2));
    expected.set(12, pageContent(12, 3));
    expected.delete(15);
    expected.set(100, pageContent(100, 3));
    expect(Buffer.compare(readFileSync(path), Buffer.from(expectedImage(expected, 100)))).toBe(0);
    expect(image.pages).toBe(40);
  });

  it("a record's pages are written by the time the next call returns: its buffer may be reused then, not before", async () => {
    const path = join(dir, 'reuse.raw');
    const file = await AtomicOutput.open(path, { positional: true });
    const image = new MemoryImage(file, dir);
    const expected = new Map<number, Uint8Array>();
    // Two buffers in turn, as a reader recycling with 'alternate' hands them over.
    const buffers = [new Uint8Array(64 * PAGE), new Uint8Array(64 * PAGE)];
    for (let r = 0; r < 6; r++) {
      const pfns = Array.from({ length: 64 }, (_, i) => r * 64 + i);
      const buffer = buffers[r % 2];
      for (const [i, pfn] of pfns.entries()) buffer.set(pageContent(pfn, 1), i * PAGE);
      await image.apply({ pfns, types: pfns.map(() => NOTAB) }, buffer, 0);
      for (const pfn of pfns) expected.set(pfn, pageContent(pfn, 1));
      // The previous record's writes are done: overwriting its buffer must not reach the image.
      buffers[(r + 1) % 2].fill(0xee);
    }
    await image.commit();
    await image.finish();
    await file.commit();
    expect(Buffer.compare(readFileSync(path), Buffer.from(expectedImage(expected, 6 * 64 - 1)))).toBe(0);
  });

  it('refuses a pfn beyond the size limit before writing anything of its record', async () => {
    const path = join(dir, 'limit.raw');
    const file = await AtomicOutput.open(path, { positional: true });
    const image = new MemoryImage(file, dir, 64 * PAGE);
    const ok = record([0, 63], 1);
    await image.apply(ok.entries, ok.data, 0);
    const tooFar = record([1, 64], 1);
    const refused = image.apply(tooFar.entries, tooFar.data, 0x1234);
    await expect(refused).rejects.toBeInstanceOf(ImageSizeError);
    await expect(refused).rejects.toThrow(
      'pfn 64 (0x40) of the record at offset 4660 (0x00001234) would make the memory image 260.0 KiB (sparse), more than the limit of 256.0 KiB',
    );
    await expect(image.announceMaxPfn(2 ** 32 - 1, 96)).rejects.toThrow('pfn 4294967295 (0xffffffff) of the record at offset 96');
    await image.finish();
    await file.commit();
    const bytes = readFileSync(path);
    expect(bytes.subarray(PAGE, 2 * PAGE).every((b) => b === 0)).toBe(true); // pfn 1 of the refused record: not written
  });

  it("a file bigger than the output's filesystem allows (EFBIG) is an ImageSizeError, not a raw Node error", async () => {
    const efbig = Object.assign(new Error('EFBIG: file too large, write'), { code: 'EFBIG' });
    const file = {
      writeAt: () => Promise.reject(efbig),
      handle: { truncate: () => Promise.reject(efbig), read: () => Promise.resolve({ bytesRead: 0 }) },
    } as unknown as AtomicOutput;
    const image = new MemoryImage(file, dir, 2 ** 52);
    await expect(image.announceMaxPfn(2 ** 32 - 1, 0)).rejects.toThrow(
      "the memory image would be 16.0 TiB (sparse), more than the output's filesystem allows a file to be (EFBIG)",
    );
    const r = record([2 ** 36], 1);
    await image.apply(r.entries, r.data, 0); // returns with the write in flight: its failure comes with the next call
    const failed = image.finish();
    await expect(failed).rejects.toBeInstanceOf(ImageSizeError);
    await expect(failed).rejects.toThrow('256.0 TiB');
  });
});
