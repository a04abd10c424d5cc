/**
 * The benchmark's target scoring (bench/files/targets.ts) on made-up rows:
 * which bound applies at which size, met / missed / not scored, and the
 * reasons shown. No benchmark runs here; the rows are fixed numbers.
 */
import { describe, expect, it } from 'vitest';
import { scoreTargets, TARGETS, type Measured } from '../bench/files/targets.js';
import type { RowResult } from '../bench/files/types.js';

const GiB = 2 ** 30;

function row(id: string, medianMs: number, rssKiB?: number, extra: Partial<RowResult> = {}): RowResult {
  return {
    id,
    label: id,
    command: id,
    ratioKind: 'time',
    bytes: 1,
    samplesMs: [medianMs],
    samplesRssKiB: [rssKiB],
    summary: { runs: 1, medianMs, minMs: medianMs, maxMs: medianMs, ...(rssKiB === undefined ? {} : { rssKiB }) },
    ...extra,
  };
}

const only = (...ids: string[]) => TARGETS.filter((t) => ids.includes(t.id));
const byId = (results: ReturnType<typeof scoreTargets>) => Object.fromEntries(results.map((r) => [r.id, r]));

describe('bench target scoring', () => {
  it('verify vs the read floor: ≤ 0.8× at 1 GiB, ≤ 0.3× at 4 GiB, one verdict per size run', () => {
    const at1G: Measured = { size: '1G', bytes: GiB, rows: [row('read-floor', 1000), row('verify', 700)] };
    const at4G: Measured = { size: '4G', bytes: 4 * GiB, rows: [row('read-floor', 1000), row('verify', 700)] };
    const r = byId(scoreTargets([at1G, at4G], undefined, only('verify-vs-read-floor')));
    expect(r['verify-vs-read-floor@1G']).toMatchObject({ target: '≤ 0.8×', value: '0.70×', met: true });
    expect(r['verify-vs-read-floor@4G']).toMatchObject({ target: '≤ 0.3×', value: '0.70×', met: false });
  });

  it('a size the issue states no bound for is shown, not scored', () => {
    const r = scoreTargets([{ size: '256M', bytes: GiB / 4, rows: [row('read-floor', 1000), row('verify', 500)] }], undefined, only('verify-vs-read-floor'));
    expect(r).toEqual([expect.objectContaining({ id: 'verify-vs-read-floor', value: '0.50× at 256M', met: null, note: expect.stringMatching(/not scored/) })]);
  });

  it('peak RSS over node -e 0 must hold at every size measured', () => {
    const sets: Measured[] = [
      { size: '1G', bytes: GiB, rows: [row('node-startup', 1, 40 * 1024), row('verify', 1, 60 * 1024)] },
      { size: '4G', bytes: 4 * GiB, rows: [row('node-startup', 1, 40 * 1024), row('verify', 1, 70 * 1024)] },
    ];
    const [t] = scoreTargets(sets, undefined, only('verify-rss'));
    expect(t).toMatchObject({ target: '≤ +24 MiB', value: '1G: +20.0 MiB, 4G: +30.0 MiB', met: false });
  });

  it('start-up is scored as milliseconds over node -e 0', () => {
    const [t] = scoreTargets([{ size: '1G', bytes: GiB, rows: [row('node-startup', 75), row('startup', 110)] }], undefined, only('startup'));
    expect(t).toMatchObject({ target: '≤ +40 ms', value: '+35 ms', met: true });
  });

  it('synth is a throughput bound (≥), and a value that rounds to the bound shows one more digit', () => {
    const [t] = scoreTargets([{ size: '1G', bytes: GiB, rows: [row('write-floor', 796), row('synth', 1000)] }], undefined, only('synth'));
    expect(t).toMatchObject({ target: '≥ 0.8×', value: '0.796×', met: false });
    expect(t.note).toBeUndefined();
  });

  it('the 64 MiB record: a run killed at its time limit is missed; another record size is not scored', () => {
    const timedOut = row('migrate-record', 0, undefined, { summary: undefined, failed: 'failed: timed out after 60 s', timedOutMs: 60_000 });
    const [killed] = scoreTargets([{ size: '1G', bytes: GiB, rows: [timedOut] }], 64 * 2 ** 20, only('migrate-record'));
    expect(killed).toMatchObject({ target: '≤ 2 s', value: '> 60 s (timed out)', met: false });
    const [small] = scoreTargets([{ size: '1G', bytes: GiB, rows: [row('migrate-record', 500)] }], 2 ** 20, only('migrate-record'));
    expect(small).toMatchObject({ value: '0.50 s', met: null, note: expect.stringMatching(/64 MiB record/) });
  });

  it('a skipped floor leaves the target unscored with its reason', () => {
    const xen = row('xen-verify', 0, undefined, { summary: undefined, skipped: 'skipped: verify-stream-v2 not found' });
    const r = byId(scoreTargets([{ size: '1G', bytes: GiB, rows: [row('verify', 500), xen] }], undefined, only('verify-vs-xen')));
    expect(r['verify-vs-xen@1G']).toMatchObject({ value: 'skipped: verify-stream-v2 not found', met: null });
  });
});
