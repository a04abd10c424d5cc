/** MemoryImage: last copy wins, XTAB clears, and rollback of an unfinished checkpoint through a spilled undo log. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryImage } from '../src/inspect/memory-image.js';
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
      await image.apply(r.entries, r.data);
    }
    for (const p of all) expected.set(p, pageContent(p, 1));
    // pfn 7 goes away before the checkpoint completes.
    await image.apply(record([7], 1, XTAB).entries, new Uint8Array(0));
    expected.delete(7);
    await image.commit();
    // Checkpoint 2 (never completed): overwrites 2,500 committed pages, brings 7 back, adds 5000.
    const over = all.slice(0, 2500);
    for (let i = 0; i < over.length; i += 700) {
      const r = record(over.slice(i, i + 700), 2);
      await image.apply(r.entries, r.data);
    }
    const extra = record([5000], 2);
    await image.apply(extra.entries, extra.data);
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
});
