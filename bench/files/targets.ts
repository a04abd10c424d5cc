/**
 * Target scoring: issue #15's bounds as data, each scored met / missed from
 * rows measured in the same run (never from a time written down elsewhere).
 * A bound stated for one stream size (verify at 1 GiB / 4 GiB, a 64 MiB record)
 * is scored only when that size was run; otherwise its value is shown, not scored.
 */
import { parseSize } from '../lib/args.js';
import type { RowResult, SizeRun, TargetResult } from './types.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

type Measure =
  /** median(row) / median(floor) */
  | { kind: 'ratio'; row: string; floor: string }
  /** median(floor) / median(row): throughput relative to the floor's */
  | { kind: 'throughput'; row: string; floor: string }
  /** median(row) − median(floor), ms */
  | { kind: 'time-over'; row: string; floor: string }
  /** median(row), ms */
  | { kind: 'time'; row: string }
  /** largest peak RSS of the row, KiB */
  | { kind: 'rss'; row: string }
  /** peak RSS of the row − peak RSS of the floor process, KiB, at every size measured */
  | { kind: 'rss-over'; row: string; floor: string };

interface TargetSpec {
  id: string;
  name: string;
  measure: Measure;
  /** ≤ bound (≥ with atLeast); per stream size in bytes when the issue states it per size. */
  bound: number | ReadonlyMap<number, number>;
  atLeast?: boolean;
  /** The bound holds for one record size only (the large-record row). */
  recordBytes?: number;
  /** The stream size the issue states a size-independent bound for: scored at any size, with a note when another was run. */
  statedFor?: { bytes: number; text: string };
}

const perSize = new Map([
  [GiB, 0.8],
  [4 * GiB, 0.3],
]);

/** A time ratio: median(row) / median(floor) ≤ bound. */
function ratio(id: string, name: string, row: string, floor: string, bound: TargetSpec['bound']): TargetSpec {
  return { id, name, measure: { kind: 'ratio', row, floor }, bound };
}

/** Issue #15, "Targets". */
export const TARGETS: readonly TargetSpec[] = [
  ...['verify', 'stats', 'dump-ndjson'].flatMap((row): TargetSpec[] => [
    ratio(`${row}-vs-read-floor`, `${row} time vs the Node read floor`, row, 'read-floor', perSize),
    ratio(`${row}-vs-xen`, `${row} time vs Xen's verify-stream-v2`, row, 'xen-verify', perSize),
    { id: `${row}-rss`, name: `${row} peak RSS over node -e 0, every size`, measure: { kind: 'rss-over', row, floor: 'node-startup' }, bound: 24 * 1024 },
  ]),
  {
    id: 'startup',
    name: 'CLI start-up (verify of 16 pages) over node -e 0',
    measure: { kind: 'time-over', row: 'startup', floor: 'node-startup' },
    bound: 40,
  },
  ratio('pipe-verify', 'cat | verify - vs cat | cat > /dev/null', 'pipe-verify', 'pipe-floor', 1.3),
  ratio('migrate-pipe', 'send → receive over pipes vs cat | cat > OUT', 'migrate-pipe', 'pipe-copy-floor', 1.5),
  ratio('migrate-tcp', 'send → receive over TCP loopback vs cat | cat > OUT', 'migrate-tcp', 'pipe-copy-floor', 1.5),
  ...['migrate-pipe', 'migrate-tcp', 'migrate-record'].map(
    (row): TargetSpec => ({ id: `${row}-receiver-rss`, name: `receiver peak RSS (${row})`, measure: { kind: 'rss', row }, bound: 128 * 1024 }),
  ),
  {
    id: 'migrate-record',
    name: 'one 64 MiB EMULATOR_CONTEXT record through send → receive',
    measure: { kind: 'time', row: 'migrate-record' },
    bound: 2000,
    recordBytes: 64 * MiB,
  },
  ratio('extract', 'extract time vs cp', 'extract', 'cp', 1.5),
  {
    id: 'synth',
    name: 'synth throughput vs the raw write floor',
    measure: { kind: 'throughput', row: 'synth', floor: 'write-floor' },
    bound: 0.8,
    atLeast: true,
    statedFor: { bytes: GiB, text: 'synth --size 1G' },
  },
  ratio('verify-gz', 'verify FILE.gz vs zcat FILE.gz > /dev/null', 'verify-gz', 'zcat-floor', 1.2),
];

/** The rows measured at one stream size. */
export interface Measured {
  size: string;
  bytes: number;
  rows: readonly RowResult[];
}

export function measuredSets(size: string, rows: readonly RowResult[], sizes: readonly SizeRun[]): Measured[] {
  const out: Measured[] = [{ size, bytes: parseSize(size), rows }];
  for (const s of sizes) if (!s.fromMainTable) out.push({ size: s.size, bytes: parseSize(s.size), rows: s.rows });
  return out;
}

export function scoreTargets(sets: readonly Measured[], recordBytes: number | undefined, specs: readonly TargetSpec[] = TARGETS): TargetResult[] {
  return specs.flatMap((spec) => {
    if (spec.measure.kind === 'rss-over') return [scoreEverySize(spec, sets)];
    if (typeof spec.bound !== 'number') return scorePerSize(spec, spec.bound, sets);
    return [scoreOne(spec, spec.bound, sets[0], recordBytes)];
  });
}

function boundText(spec: TargetSpec, bound: number): string {
  const op = spec.atLeast ? '≥' : '≤';
  switch (spec.measure.kind) {
    case 'ratio':
    case 'throughput':
      return `${op} ${bound}×`;
    case 'time-over':
      return `${op} +${bound} ms`;
    case 'time':
      return `${op} ${bound / 1000} s`;
    case 'rss':
      return `${op} ${bound / 1024} MiB`;
    case 'rss-over':
      return `${op} +${bound / 1024} MiB`;
  }
}

function valueText(spec: TargetSpec, v: number): string {
  switch (spec.measure.kind) {
    case 'ratio':
    case 'throughput':
      return `${v.toFixed(2)}×`;
    case 'time-over':
      return `${v >= 0 ? '+' : ''}${v.toFixed(0)} ms`;
    case 'time':
      return `${(v / 1000).toFixed(2)} s`;
    case 'rss':
      return `${(v / 1024).toFixed(1)} MiB`;
    case 'rss-over':
      return `${v >= 0 ? '+' : ''}${(v / 1024).toFixed(1)} MiB`;
  }
}

/** The measure's value from one size's rows, or why there is none. */
function evaluate(m: Measure, rows: readonly RowResult[]): { value?: number; why?: string; timedOutMs?: number } {
  const get = (id: string) => rows.find((r) => r.id === id);
  const need = [m.row, ...('floor' in m ? [m.floor] : [])].map((id) => ({ id, r: get(id) }));
  for (const { id, r } of need) {
    if (!r) return { why: `${id} not run` };
    if (r.timedOutMs !== undefined) return { why: `${id} ${r.failed}`, timedOutMs: r.timedOutMs };
    if (!r.summary) return { why: r.skipped ?? r.failed ?? `${id}: no samples` };
  }
  const [a, b] = need.map(({ r }) => r?.summary);
  if (!a) return { why: 'no samples' };
  switch (m.kind) {
    case 'ratio':
      return b ? { value: a.medianMs / b.medianMs } : {};
    case 'throughput':
      return b ? { value: b.medianMs / a.medianMs } : {};
    case 'time-over':
      return b ? { value: a.medianMs - b.medianMs } : {};
    case 'time':
      return { value: a.medianMs };
    case 'rss':
      return a.rssKiB === undefined ? { why: 'peak RSS not measured' } : { value: a.rssKiB };
    case 'rss-over':
      return a.rssKiB === undefined || b?.rssKiB === undefined ? { why: 'peak RSS not measured' } : { value: a.rssKiB - b.rssKiB };
  }
}

function verdict(spec: TargetSpec, bound: number, value: number): boolean {
  return spec.atLeast ? value >= bound : value <= bound;
}

function scoreOne(spec: TargetSpec, bound: number, set: Measured, recordBytes: number | undefined): TargetResult {
  const base = { id: spec.id, name: spec.name, target: boundText(spec, bound) };
  const e = evaluate(spec.measure, set.rows);
  // A run killed at its limit took longer than the limit: an upper bound below it is missed.
  if (e.timedOutMs !== undefined && !spec.atLeast && spec.measure.kind === 'time' && e.timedOutMs > bound) {
    return { ...base, value: `> ${e.timedOutMs / 1000} s (timed out)`, met: false, note: e.why };
  }
  if (e.value === undefined) return { ...base, value: e.why ?? 'not measured', met: null };
  const value = valueText(spec, e.value);
  if (spec.recordBytes !== undefined && recordBytes !== spec.recordBytes) {
    const note = `stated for a ${spec.recordBytes / MiB} MiB record; this run's is ${((recordBytes ?? 0) / MiB).toFixed(1)} MiB (--record-size)`;
    return { ...base, value, met: null, note };
  }
  const note = spec.statedFor && spec.statedFor.bytes !== set.bytes ? `stated for ${spec.statedFor.text}; measured at ${set.size}` : undefined;
  const met = verdict(spec, bound, e.value);
  // 0.796× shown as "0.80×" next to "≥ 0.8×: MISSED" would read as a contradiction: one more digit then.
  const shown = value === `${bound.toFixed(2)}×` && !met ? `${e.value.toFixed(3)}×` : value;
  return { ...base, value: shown, met, ...(note ? { note } : {}) };
}

/** One verdict per size the issue states a bound for and this run measured; else the value at --size, unscored. */
function scorePerSize(spec: TargetSpec, bounds: ReadonlyMap<number, number>, sets: readonly Measured[]): TargetResult[] {
  const scored = sets.filter((s) => bounds.has(s.bytes));
  if (scored.length === 0) {
    const e = evaluate(spec.measure, sets[0].rows);
    const stated = [...bounds].map(([bytes, b]) => `${boundText(spec, b)} at ${bytes / GiB} GiB`).join(', ');
    const value = e.value === undefined ? (e.why ?? 'not measured') : `${valueText(spec, e.value)} at ${sets[0].size}`;
    return [{ id: spec.id, name: spec.name, target: stated, value, met: null, note: 'not scored: run --size 1G or --sizes 1G,4G' }];
  }
  return scored.map((set) => {
    const bound = bounds.get(set.bytes) as number;
    const r = scoreOne(spec, bound, set, undefined);
    return { ...r, id: `${spec.id}@${set.size}`, name: `${spec.name} at ${set.size}` };
  });
}

/** Every size measured must be within the bound; the value lists each. */
function scoreEverySize(spec: TargetSpec, sets: readonly Measured[]): TargetResult {
  const bound = spec.bound as number;
  const points = sets.map((s) => ({ size: s.size, e: evaluate(spec.measure, s.rows) }));
  const values = points.filter((p) => p.e.value !== undefined).map((p) => ({ size: p.size, v: p.e.value as number }));
  const base = { id: spec.id, name: spec.name, target: boundText(spec, bound) };
  if (values.length === 0) return { ...base, value: points[0]?.e.why ?? 'not measured', met: null };
  const value = values.map((p) => `${p.size}: ${valueText(spec, p.v)}`).join(', ');
  return { ...base, value, met: values.every((p) => verdict(spec, bound, p.v)) };
}
