/**
 * The runner: every row once per round, rounds interleaved (A B A B ...: the
 * order rotates by one each round, so no command always runs right after the
 * same neighbour), then each row summarised against its floor.
 */
import { runTimed, summarize, type Launch, type Sample } from '../lib/measure.js';
import { settle } from './commands.js';
import type { Row, RowResult } from './types.js';

export function toRows(specs: ReadonlyArray<Omit<Row, 'samples'>>): Row[] {
  return specs.map((s) => ({ ...s, samples: [] }));
}

/** Round r runs every live row once, starting one row later than round r−1. */
export async function runRounds(rows: Row[], runs: number, rssFile: string | undefined, log: (s: string) => void): Promise<void> {
  const live = () => rows.filter((r) => !r.skipped && !r.failed && r.launch);
  for (let round = 0; round < runs; round++) {
    const order = live();
    const start = order.length ? round % order.length : 0;
    log(`  round ${round + 1}/${runs}:`);
    for (const row of [...order.slice(start), ...order.slice(0, start)]) {
      const s = await runTimed(row.launch as Launch, rssFile, row.timeoutMs);
      log(` ${row.id}=${record(row, s)}`);
    }
    log('\n');
  }
}

/** Keep the sample, or fail the row (it is then left out of later rounds and shown as failed). */
function record(row: Row, s: Sample): string {
  const err = s.timedOut ? `timed out after ${((row.timeoutMs ?? 0) / 1000).toFixed(0)} s` : row.check?.(s);
  if (row.after) {
    row.after();
    settle();
  }
  if (err) {
    row.failed = `failed: ${err}`;
    if (s.timedOut && row.timeoutMs !== undefined) row.timedOutMs = row.timeoutMs;
    return 'FAILED';
  }
  row.samples.push(s);
  return `${(s.ms / 1000).toFixed(2)}s`;
}

export function rowResult(row: Row, rows: readonly Row[]): RowResult {
  const summary = summarize(row.samples);
  const median = (id: string | undefined) => summarize(rows.find((r) => r.id === id)?.samples ?? [])?.medianMs;
  const r: RowResult = {
    id: row.id,
    label: row.label,
    command: row.command,
    ...(row.floor ? { floor: row.floor } : {}),
    ratioKind: row.ratioKind,
    bytes: row.bytes,
    ...(row.skipped ? { skipped: row.skipped } : {}),
    ...(row.failed ? { failed: row.failed } : {}),
    ...(row.timedOutMs ? { timedOutMs: row.timedOutMs } : {}),
    samplesMs: row.samples.map((s) => Math.round(s.ms * 10) / 10),
    samplesRssKiB: row.samples.map((s) => s.rssKiB),
  };
  if (!summary) return r;
  r.summary = summary;
  if (row.bytes > 0) r.mbPerSecond = row.bytes / 1e6 / (summary.medianMs / 1000);
  const floorMs = median(row.floor);
  if (floorMs !== undefined) r.ratio = row.ratioKind === 'time' ? summary.medianMs / floorMs : floorMs / summary.medianMs;
  const rssFloor = summarize(rows.find((x) => x.id === row.rssFloor)?.samples ?? [])?.rssKiB;
  if (rssFloor !== undefined && summary.rssKiB !== undefined) {
    r.rssFloorKiB = rssFloor;
    r.rssOverFloorKiB = summary.rssKiB - rssFloor;
  }
  const net = netOfStartup(row, summary.medianMs, floorMs, median('startup'), median('node-startup'));
  if (net !== undefined) r.ratioNetOfStartup = net;
  return r;
}

/**
 * A CLI row against a Node floor (read or write floor), with both start-ups
 * taken out: (command − CLI start-up) / (floor − node start-up) for time,
 * the inverse for throughput. The streaming part alone.
 */
function netOfStartup(row: Row, ms: number, floorMs: number | undefined, cliStart: number | undefined, nodeStart: number | undefined): number | undefined {
  const nodeFloor = row.floor === 'read-floor' || row.floor === 'write-floor';
  if (!row.cli || !nodeFloor || floorMs === undefined || cliStart === undefined || nodeStart === undefined) return undefined;
  const tool = ms - cliStart;
  const floor = floorMs - nodeStart;
  const [num, den] = row.ratioKind === 'time' ? [tool, floor] : [floor, tool];
  return den > 0 && num > 0 ? num / den : undefined; // not when start-up alone outweighs the streaming (tiny streams)
}
