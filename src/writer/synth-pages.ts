/**
 * Deterministic guest memory for synth: page types, which pfns each pass
 * sends, and page contents, all pure functions of (seed, pfn, pass) so tests
 * can predict what a reader or `extract` must find.
 *
 * Contents are cheap: a small pool of pseudo-random pages, chosen per
 * (pfn, pass), with a 16-byte stamp in front. A page is handed to the writer as
 * two views (stamp, pool page tail), so no page is ever copied.
 */
import { PAGE_SIZE } from '../format/constants.js';
import { PAGE_TYPE, PAGE_TYPE_HAS_DATA } from '../format/page-types.js';
import type { GuestKind } from './writer-automaton.js';

/** Bytes at the start of every synth page: u64 pfn, u32 pass, u32 seed (little-endian). */
export const SYNTH_STAMP_SIZE = 16;
const POOL_PAGES = 64;

/** A 32-bit avalanche mix (lowbias32). */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hash of (seed, pfn, salt); pfns above 2^32 are folded in. */
export function synthHash(seed: number, pfn: number, salt: number): number {
  const hi = Math.floor(pfn / 0x1_0000_0000);
  return mix32(mix32(mix32((seed ^ 0x9e3779b9) >>> 0) ^ (pfn >>> 0)) ^ mix32(hi + Math.imul(salt, 0x632be5ab)));
}

/** The page type nibble synth gives `pfn` (constant across passes). */
export function synthPageType(kind: GuestKind, seed: number, pfn: number): number {
  if (pfn === 0) return PAGE_TYPE.NOTAB;
  const h = synthHash(seed, pfn, 0x401e);
  // A few holes everywhere; HVM guests also have the legacy VGA hole (pfns 0xa0–0xbf).
  if (h % 499 === 7) return PAGE_TYPE.XTAB;
  if (kind === 'hvm' && pfn >= 0xa0 && pfn < 0xc0) return PAGE_TYPE.XTAB;
  if (kind !== 'pv') return PAGE_TYPE.NOTAB;
  // PV: the kernel's pinned top-level tables low in memory, then scattered process page tables.
  if (pfn === 1) return PAGE_TYPE.L4TAB_PINNED;
  if (pfn === 2) return PAGE_TYPE.L3TAB_PINNED;
  if (pfn === 3) return PAGE_TYPE.L2TAB_PINNED;
  if (pfn < 8) return PAGE_TYPE.L1TAB_PINNED;
  const r = (h >>> 9) % 1000;
  if (r < 6) return PAGE_TYPE.L1TAB;
  if (r < 8) return PAGE_TYPE.L2TAB;
  if (r === 8) return PAGE_TYPE.L3TAB;
  if (r === 9) return PAGE_TYPE.L4TAB;
  if (r < 12) return PAGE_TYPE.L1TAB_PINNED;
  return PAGE_TYPE.NOTAB;
}

/**
 * Whether pass `pass` sends `pfn`. Pass 0 sends every pfn (holes as XTAB
 * entries); each later pass resends a smaller random subset (about 1/2^(pass+1)),
 * always including pfn 0 so no pass is empty, never the holes.
 */
export function synthSendsPfn(kind: GuestKind, seed: number, pfn: number, pass: number): boolean {
  if (pass === 0) return true;
  if (synthPageType(kind, seed, pfn) === PAGE_TYPE.XTAB) return false;
  if (pfn === 0) return true;
  const divisor = 2 ** Math.min(pass + 1, 20);
  return synthHash(seed, pfn, 0xd1e7 + pass) % divisor === 0;
}

/** The pool of page bodies for a seed (xorshift32 stream; a quarter of the pool is zero pages, as in real guests). */
function buildPool(seed: number): Uint8Array {
  const pool = new Uint8Array(POOL_PAGES * PAGE_SIZE);
  const words = new Uint32Array(pool.buffer);
  let x = mix32(seed ^ 0x5eed) || 1;
  for (let page = POOL_PAGES / 4; page < POOL_PAGES; page++) {
    for (let w = page * (PAGE_SIZE / 4); w < (page + 1) * (PAGE_SIZE / 4); w++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[w] = x >>> 0;
    }
  }
  return pool;
}

function poolIndex(seed: number, pfn: number, pass: number): number {
  return synthHash(seed, pfn, 0x9a9e + pass) % POOL_PAGES;
}

/** The stamp at byte `at` of the bytes `dv` covers (one DataView per batch: not one allocation per page). */
function writeStamp(dv: DataView, at: number, seed: number, pfn: number, pass: number): void {
  dv.setUint32(at, pfn >>> 0, true);
  dv.setUint32(at + 4, Math.floor(pfn / 0x1_0000_0000), true);
  dv.setUint32(at + 8, pass >>> 0, true);
  dv.setUint32(at + 12, seed >>> 0, true);
}

/** Produces page views for a seed. Memory: the pool (256 KiB) plus one stamp array per batch. */
export class SynthPageSource {
  private readonly pool: Uint8Array;
  private readonly tails: Uint8Array[];

  constructor(readonly seed: number) {
    this.pool = buildPool(seed);
    this.tails = [];
    for (let i = 0; i < POOL_PAGES; i++) this.tails.push(this.pool.subarray(i * PAGE_SIZE + SYNTH_STAMP_SIZE, (i + 1) * PAGE_SIZE));
  }

  /** Page views (stamp, tail) for every data-bearing entry of a batch, in entry order. */
  chunks(pfns: readonly number[], types: readonly number[], pass: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let dataPages = 0;
    for (let i = 0; i < types.length; i++) dataPages += PAGE_TYPE_HAS_DATA[types[i]];
    const stamps = new Uint8Array(dataPages * SYNTH_STAMP_SIZE);
    const dv = new DataView(stamps.buffer);
    let k = 0;
    for (let i = 0; i < pfns.length; i++) {
      if (!PAGE_TYPE_HAS_DATA[types[i]]) continue;
      const at = k * SYNTH_STAMP_SIZE;
      writeStamp(dv, at, this.seed, pfns[i], pass);
      out.push(stamps.subarray(at, at + SYNTH_STAMP_SIZE), this.tails[poolIndex(this.seed, pfns[i], pass)]);
      k++;
    }
    return out;
  }

  /** One page as a new buffer (for tests and `extract` checks). */
  page(pfn: number, pass: number): Uint8Array {
    const out = new Uint8Array(PAGE_SIZE);
    const i = poolIndex(this.seed, pfn, pass);
    out.set(this.pool.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
    writeStamp(new DataView(out.buffer), 0, this.seed, pfn, pass);
    return out;
  }
}

const sourceCache = new Map<number, SynthPageSource>();

/** The 4096 bytes synth writes for `pfn` in pass `pass` with `seed`. */
export function synthPageContent(seed: number, pfn: number, pass: number): Uint8Array {
  let source = sourceCache.get(seed);
  if (!source) {
    if (sourceCache.size > 16) sourceCache.clear();
    source = new SynthPageSource(seed);
    sourceCache.set(seed, source);
  }
  return source.page(pfn, pass);
}
