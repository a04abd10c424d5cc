/**
 * Truncation property (issue 4): a valid stream cut at ANY byte never reads as
 * 'complete', never hangs and never throws anything but StreamFormatError.
 * Checkpointed streams may end by failover once a checkpoint is complete, and
 * then report exactly the checkpoints completed before the cut; before the
 * first complete checkpoint they must throw.
 *
 * Every cut point through readStreamSync; a sample through the async reader on
 * a Readable delivering 1–7 byte chunks, and through PushDecoder.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StreamFormatError } from '../src/codec/index.js';
import { PushDecoder, readStream, readStreamSync, type ReaderOptions, type StreamEnd } from '../src/reader/index.js';
import {
  checkpointed,
  concat,
  domainHeader,
  imageHeader,
  minimalXl,
  pageData,
  plainHvm,
  plainPv,
  postcopy,
  rec,
  tscInfo,
  hvmContext,
  hvmParams,
} from './support/build.js';

interface Case {
  name: string;
  bytes: Uint8Array;
  opts: ReaderOptions;
  /** Offsets just past each complete checkpoint (checkpointed streams). */
  checkpointEnds: number[];
}

function checkpointEnds(bytes: Uint8Array, opts: ReaderOptions): number[] {
  const { items } = readStreamSync(bytes, opts).readAll();
  return items.filter((i) => i.kind === 'record' && i.layer === 'libxl' && i.record.name === 'CHECKPOINT_END').map((i) => i.offset + i.length);
}

const bareLibxc = concat([
  imageHeader(3),
  domainHeader(2),
  rec('libxc', 'STATIC_DATA_END'),
  pageData([0, 1]),
  tscInfo(),
  hvmContext(),
  hvmParams(),
  rec('libxc', 'END'),
]);

const CASES: Case[] = (
  [
    ['plain PV (libxl container)', plainPv([[0, 1], [1]]), {}],
    ['plain HVM (xl container, two passes)', plainHvm([[0, 1, 2], [2]]), {}],
    ['bare libxc HVM', bareLibxc, {}],
    ['Remus, 3 checkpoints', checkpointed(3), {}],
    ['Remus, 2 checkpoints, mode given', checkpointed(2), { mode: 'remus' }],
    ['COLO, 2 checkpoints', checkpointed(2, true), { mode: 'colo' }],
    ['postcopy RFC', postcopy(), { dialect: 'postcopy-rfc' }],
    ['spec/FORMAT.md §11 247-byte example', minimalXl(), {}],
  ] as Array<[string, Uint8Array, ReaderOptions]>
).map(([name, bytes, opts]) => ({ name, bytes, opts, checkpointEnds: checkpointEnds(bytes, opts) }));

/** What a cut at `cut` must give: a failover with n checkpoints, or a truncation error at `cut`. */
function expectCut(c: Case, cut: number, outcome: { end?: StreamEnd; error?: unknown }): void {
  const complete = c.checkpointEnds.filter((e) => e <= cut).length;
  if (outcome.error !== undefined) {
    if (!(outcome.error instanceof StreamFormatError)) throw new Error(`${c.name}, cut ${cut}: untyped ${String(outcome.error)}`);
    const e = outcome.error;
    if (complete > 0) throw new Error(`${c.name}, cut ${cut}: ${e.ruleId} after ${complete} complete checkpoints (failover expected)`);
    if (!['STREAM-TRUNCATED', 'STREAM-NO-COMPLETE-CHECKPOINT'].includes(e.ruleId) || e.offset !== cut) {
      throw new Error(`${c.name}, cut ${cut}: ${e.ruleId} at ${e.offset} (expected a truncation error at ${cut})`);
    }
    return;
  }
  const end = outcome.end as StreamEnd;
  if (end.status === 'complete') throw new Error(`${c.name}, cut ${cut}: status complete`);
  if (complete === 0 || end.completeCheckpoints !== complete || end.streamEnd !== c.checkpointEnds[complete - 1] || end.bytesRead !== cut) {
    throw new Error(`${c.name}, cut ${cut}: failover ${JSON.stringify(end)}, expected ${complete} checkpoints ending at ${c.checkpointEnds[complete - 1]}`);
  }
}

function syncOutcome(bytes: Uint8Array, opts: ReaderOptions): { end?: StreamEnd; error?: unknown } {
  try {
    return { end: readStreamSync(bytes, opts).readAll().end };
  } catch (error) {
    return { error };
  }
}

async function asyncOutcome(bytes: Uint8Array, opts: ReaderOptions, seed: number): Promise<{ end?: StreamEnd; error?: unknown }> {
  function* chunks() {
    let s = seed;
    for (let pos = 0; pos < bytes.length; ) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (s % 7);
      yield Buffer.from(bytes.subarray(pos, pos + n));
      pos += n;
    }
  }
  try {
    return { end: await readStream(Readable.from(chunks(), { objectMode: false }), opts).run() };
  } catch (error) {
    return { error };
  }
}

function pushOutcome(bytes: Uint8Array, opts: ReaderOptions, seed: number): { end?: StreamEnd; error?: unknown } {
  const d = new PushDecoder(opts);
  try {
    let s = seed;
    for (let pos = 0; pos < bytes.length; ) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (s % 7);
      d.push(bytes.subarray(pos, pos + n));
      pos += n;
    }
    return { end: d.end() };
  } catch (error) {
    return { error };
  }
}

/** Record boundaries ±1 and every `step`-th byte. */
function sampleCuts(c: Case, step: number): number[] {
  const { items } = readStreamSync(c.bytes, c.opts).readAll();
  const cuts = new Set<number>();
  for (const i of items) for (const d of [-1, 0, 1, 8]) cuts.add(i.offset + d);
  for (let k = 0; k < c.bytes.length; k += step) cuts.add(k);
  return [...cuts].filter((k) => k >= 0 && k < c.bytes.length).sort((a, b) => a - b);
}

describe('truncation at every byte (readStreamSync)', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.bytes.length} cut points, none complete, only typed truncation errors or failovers`, () => {
      const full = readStreamSync(c.bytes, c.opts).readAll();
      expect(full.end.status).toBe(c.checkpointEnds.length ? 'failover' : 'complete');
      let failovers = 0;
      for (let cut = 0; cut < c.bytes.length; cut++) {
        const o = syncOutcome(c.bytes.subarray(0, cut), c.opts);
        expectCut(c, cut, o);
        if (o.end) failovers++;
      }
      // Checkpointed streams fail over from the end of their first checkpoint on; the others never.
      const expectedFailovers = c.checkpointEnds.length ? c.bytes.length - c.checkpointEnds[0] : 0;
      expect(failovers).toBe(expectedFailovers);
    });
  }
});

describe('truncation, sampled, through the async reader (1–7 byte chunks) and PushDecoder', () => {
  for (const c of CASES) {
    it(`${c.name}: async Readable`, async () => {
      const cuts = sampleCuts(c, Math.max(61, Math.floor(c.bytes.length / 40)));
      for (const cut of cuts) expectCut(c, cut, await asyncOutcome(c.bytes.subarray(0, cut), c.opts, cut));
      // And the whole stream still reads the same way through this path.
      const whole = await asyncOutcome(c.bytes, c.opts, 7);
      expect(whole.error).toBeUndefined();
      expect(whole.end?.status).toBe(c.checkpointEnds.length ? 'failover' : 'complete');
    });

    it(`${c.name}: PushDecoder`, () => {
      const cuts = sampleCuts(c, 41);
      for (const cut of cuts) expectCut(c, cut, pushOutcome(c.bytes.subarray(0, cut), c.opts, cut));
      const whole = pushOutcome(c.bytes, c.opts, 3);
      expect(whole.error).toBeUndefined();
      expect(whole.end?.status).toBe(c.checkpointEnds.length ? 'failover' : 'complete');
    });
  }
});
