/**
 * PfnSet and PageMap against a plain Set / Map, across their block forms
 * (one member, sorted array, bitmap / dense tables), and their memory on pfns
 * spread one per 512 (issue 17 item 10): proportional to the pfns, not the span.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { PfnSet } from '../src/reader/pfn-set.js';
import { PageMap } from '../src/inspect/page-map.js';
import type { PageDataBody } from '../src/codec/bodies/page-data.js';

/** Deterministic pseudo-random generator (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

/** pfns mixing dense runs, one block filled past every threshold, scattered and huge (52-bit) pfns. */
function pfnMix(seed: number, n: number): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const pick = r();
    if (pick < 0.4)
      out.push(Math.floor(r() * 65536)); // block 0: singleton → array → bitmap / dense tables
    else if (pick < 0.6)
      out.push(65536 * 7 + Math.floor(r() * 300)); // stays a sorted array
    else if (pick < 0.8) out.push(Math.floor(r() * 2 ** 24));
    else out.push(Math.floor(r() * 2 ** 52));
  }
  return out;
}

describe('PfnSet', () => {
  it('agrees with a Set for add / has / delete / values in every block form', () => {
    for (const seed of [1, 2, 3]) {
      const set = new PfnSet();
      const ref = new Set<number>();
      const r = rng(seed * 77);
      for (const pfn of pfnMix(seed, 20_000)) {
        if (r() < 0.1) {
          set.delete(pfn);
          ref.delete(pfn);
        } else {
          expect(set.add(pfn)).toBe(!ref.has(pfn));
          ref.add(pfn);
        }
        expect(set.has(pfn)).toBe(ref.has(pfn));
      }
      expect(set.size).toBe(ref.size);
      expect([...set.values()]).toEqual([...ref].sort((a, b) => a - b));
      for (const pfn of pfnMix(seed + 100, 2000)) expect(set.has(pfn)).toBe(ref.has(pfn));
    }
  });
});

describe('PfnSet.addAll', () => {
  it('adds a record at a time as add() does one pfn at a time, and returns the repeats in order', () => {
    for (const seed of [4, 5]) {
      const bulk = new PfnSet();
      const single = new PfnSet();
      const all = pfnMix(seed, 30_000);
      // Records of mixed lengths, dense runs (≥ 512 pfns in one block go straight to a bitmap) among them.
      const records: number[][] = [];
      for (let i = 0; i < all.length; i += 700) records.push(all.slice(i, i + 700));
      for (let r = 0; r < 4; r++) records.push(Array.from({ length: 1024 }, (_, i) => 65536 * (9 + (r >> 1)) + (r & 1) * 512 + i));
      records.push(
        Array.from({ length: 600 }, (_, i) => 2 ** 40 + i),
        [3, 3, 3],
      );
      for (const pfns of records) {
        const repeats = pfns.filter((pfn) => !single.add(pfn));
        expect(bulk.addAll(pfns)).toEqual(repeats.length > 0 ? repeats : undefined);
        expect(bulk.size).toBe(single.size);
      }
      expect([...bulk.values()]).toEqual([...single.values()]);
    }
  });
});

describe('PageMap', () => {
  const body = (pfns: number[], types: number[]): PageDataBody => {
    const dataPages = types.filter((t) => t < 0xd).length;
    const pageData = new Uint8Array(4096 * dataPages);
    let k = 0;
    pfns.forEach((pfn, i) => {
      if (types[i] < 0xd) new DataView(pageData.buffer).setFloat64(4096 * k++, pfn * 3 + types[i]);
    });
    return { kind: 'page-data', count: pfns.length, reserved: 0, pfns, types, pageData };
  };

  it('keeps the last type and content hash of every pfn, and lists the pfns sent in order', () => {
    const map = new PageMap();
    const ref = new Map<number, number>();
    const hashes = new Map<number, number>();
    const r = rng(9);
    const all = pfnMix(5, 30_000); // > 8192 distinct pfns in block 0: dense tables
    for (let i = 0; i < all.length; i += 1000) {
      const pfns = all.slice(i, i + 1000);
      const types = pfns.map(() => (r() < 0.2 ? 0xf : Math.floor(r() * 4)));
      map.apply(body(pfns, types));
      pfns.forEach((pfn, j) => {
        ref.set(pfn, types[j]);
      });
      for (const pfn of pfns) hashes.set(pfn, map.hashOf(pfn));
    }
    expect([...map.pfns()]).toEqual([...ref.keys()].sort((a, b) => a - b));
    for (const [pfn, t] of ref) expect(map.typeOf(pfn)).toBe(t);
    for (const pfn of pfnMix(77, 1000)) if (!ref.has(pfn)) expect(map.typeOf(pfn)).toBeUndefined();
    // Same content and type give the same hash; XTAB/no-data entries hash to 0.
    const again = new PageMap();
    const sample = [...ref].slice(0, 500);
    again.apply(
      body(
        sample.map(([p]) => p),
        sample.map(([, t]) => t),
      ),
    );
    for (const [pfn, t] of sample) {
      expect(again.hashOf(pfn)).toBe(hashes.get(pfn));
      if (t === 0xf) expect(again.hashOf(pfn)).toBe(0);
    }
  });
});

describe('memory follows the pfns present, not their span', () => {
  const N = 262_144; // pfns k × 512: a span of 2^27 pfns (512 GiB)
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heapGrowth = (fill: () => unknown): number => {
    gc();
    const before = process.memoryUsage();
    const keep = fill();
    gc();
    const after = process.memoryUsage();
    expect(keep).toBeDefined();
    return after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  };

  it('PfnSet: under 16 bytes per pfn (was ~290)', () => {
    const grew = heapGrowth(() => {
      const s = new PfnSet();
      for (let k = 0; k < N; k++) s.add(k * 512);
      return s;
    });
    expect(grew / N).toBeLessThan(16);
  });

  it('PageMap: under 40 bytes per pfn (was ~2,500)', () => {
    const grew = heapGrowth(() => {
      const m = new PageMap();
      for (let k = 0; k < N; k += 1024) {
        const pfns = Array.from({ length: 1024 }, (_, i) => (k + i) * 512);
        m.apply({ kind: 'page-data', count: 1024, reserved: 0, pfns, types: pfns.map(() => 0xf), pageData: new Uint8Array(0) });
      }
      return m;
    });
    expect(grew / N).toBeLessThan(40);
  });
});
