/**
 * PushDecoder with pageContents 'skip' (the session receiver's mode): page
 * bytes pass through counted, never assembled, and every verdict — a valid
 * end, a failover, a truncation, a bad header or pfn array — is the one the
 * full decode gives, with the same rule, offset and message.
 */
import { describe, expect, it } from 'vitest';
import { bytesCopied } from './support/bytes-copied.js';
import { PushDecoder, readStreamSync, type ReaderOptions } from '../src/reader/index.js';
import { checkpointed, concat, hvmLibxc, libxlHeader, plainHvm, plainPv, postcopy, rec, xlHeader } from './support/build.js';

type Outcome = { end: unknown } | { error: { name: string; ruleId?: string | undefined; offset?: number | undefined; message: string } };

/** Push `bytes` in chunks of 1..`maxChunk` bytes (seeded), then end(). */
function outcome(bytes: Uint8Array, opts: ReaderOptions, seed: number, maxChunk: number): Outcome {
  const decoder = new PushDecoder(opts);
  try {
    let s = seed;
    for (let pos = 0; pos < bytes.length; ) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (s % maxChunk);
      decoder.push(bytes.subarray(pos, pos + n));
      pos += n;
    }
    return { end: decoder.end() };
  } catch (error) {
    const e = error as { name: string; ruleId?: string; offset?: number; message: string };
    return { error: { name: e.name, ruleId: e.ruleId, offset: e.offset, message: e.message } };
  }
}

function expectSameVerdict(bytes: Uint8Array, opts: ReaderOptions, seed: number): void {
  for (const maxChunk of [7, 5000]) {
    const full = outcome(bytes, opts, seed, maxChunk);
    const passing = outcome(bytes, { ...opts, pageContents: 'skip' }, seed, maxChunk);
    expect(passing).toEqual(full);
  }
}

const CASES: Array<[string, Uint8Array, ReaderOptions]> = [
  ['plain PV', plainPv([[0, 1], [1]]), {}],
  ['plain HVM', plainHvm([[0, 1, 2], [2]]), {}],
  ['Remus, 2 checkpoints', checkpointed(2), {}],
  ['COLO, 2 checkpoints', checkpointed(2, true), { mode: 'colo' }],
  ['postcopy RFC', postcopy(), { dialect: 'postcopy-rfc' }],
];

/** Record boundaries ±1, every 8th byte inside each page-data record's header and pfn array, and every 1021st byte. */
function cuts(bytes: Uint8Array, opts: ReaderOptions): number[] {
  const out = new Set<number>();
  for (const item of readStreamSync(bytes, opts).readAll().items) {
    for (const d of [-1, 0, 1, 8, 9, 16, 17]) out.add(item.offset + d);
    if (item.kind === 'record' && item.record.body.kind === 'page-data') {
      for (let k = 0; k < 8 + 8 + 8 * item.record.body.count + 16; k += 3) out.add(item.offset + k);
      out.add(item.offset + item.length - 1);
    }
  }
  for (let k = 0; k < bytes.length; k += 1021) out.add(k);
  return [...out].filter((k) => k >= 0 && k <= bytes.length).sort((a, b) => a - b);
}

describe('PushDecoder passing pages: the same verdicts as the full decode', () => {
  for (const [name, bytes, opts] of CASES) {
    it(`${name}: whole, and cut at every record boundary and inside every page-data record`, () => {
      for (const cut of cuts(bytes, opts)) expectSameVerdict(bytes.subarray(0, cut), opts, cut);
    });
  }

  it('a pfn count that does not match the body, a bad page type, pfn reserved bits and a pfn past the p2m are refused as the full decode refuses them', () => {
    const valid = plainPv([[0, 1, 2]]);
    const first = readStreamSync(valid)
      .readAll()
      .items.find((i) => i.kind === 'record' && i.record.name === 'PAGE_DATA');
    if (first === undefined) throw new Error('no PAGE_DATA');
    const body = first.offset + 8;
    const corruptions: Array<(b: Buffer) => void> = [
      (b) => b.writeUInt32LE(4, body), // count
      (b) => b.writeUInt32LE(2, body), // count, fewer
      (b) => b.writeUInt32LE(7, body + 4), // reserved
      (b) => (b[body + 8 + 7] = 0x50), // type of pfn[0]: an unknown type
      (b) => (b[body + 8 + 5] = 0x01), // reserved pfn bits
      (b) => b.writeUInt32LE(0x100000, body + 8 + 8), // pfn[1] past the p2m
      (b) => b.writeUInt32LE(0x1000, first.offset + 4), // body length
    ];
    for (const corrupt of corruptions) {
      const bytes = Buffer.from(valid);
      corrupt(bytes);
      for (const strict of [true, false]) expectSameVerdict(new Uint8Array(bytes), { strict }, 11);
    }
  });
});

describe('PushDecoder passing pages copies no page', () => {
  it('a stream of 4 MiB PAGE_DATA records fed in 64 KiB chunks copies only headers and pfn arrays', () => {
    const pass = (first: number) => Array.from({ length: 1024 }, (_, i) => first + i);
    const stream = concat([xlHeader(), libxlHeader(), rec('libxl', 'LIBXC_CONTEXT'), ...hvmLibxc([pass(0), pass(1024), pass(2048)]), rec('libxl', 'END')]);
    const decoder = new PushDecoder({ pageContents: 'skip' });
    let pages = 0;
    const copied = bytesCopied(() => {
      for (let at = 0; at < stream.length; at += 64 << 10) {
        for (const item of decoder.push(stream.subarray(at, at + (64 << 10)))) {
          if (item.kind === 'record' && item.record.body.kind === 'page-data') pages += item.record.body.count;
        }
      }
    });
    expect(decoder.end()).toMatchObject({ complete: true });
    expect(pages).toBe(3 * 1024);
    expect(stream.length).toBeGreaterThan(12 << 20);
    // Three pfn arrays of 8 KiB may span a chunk boundary; 12 MiB of pages may not be copied.
    expect(copied).toBeLessThan(64 << 10);
  });
});
