/** The shapes the whole-file benchmark passes around and writes as JSON. */
import type { MachineInfo } from '../lib/machine.js';
import type { Launch, Sample, Summary } from '../lib/measure.js';

/** One benchmarked command (a row of the table), with the samples gathered so far. */
export interface Row {
  id: string;
  label: string;
  /** The command line as a person would type it (FILE, OUT: the benchmark's files; no machine paths). */
  command: string;
  /** Row whose time this one is compared with, or none. */
  floor?: string;
  /** 'time': ratio = time / floor time (lower is better); 'throughput': ratio = floor time / time (higher is better). */
  ratioKind: 'time' | 'throughput';
  /** Row whose peak RSS is subtracted in the "RSS − floor" column (a Node process's baseline). */
  rssFloor?: string;
  /** Bytes read or written, for MB/s. */
  bytes: number;
  /** A stream-inspect / stream-migrate process (its start-up is netted out against a Node floor). */
  cli?: boolean;
  launch?: Launch | undefined;
  /** Returns an error text when a run's output is wrong. */
  check?: ((s: Sample) => string | undefined) | undefined;
  /** Run after every sample, outside the timing (delete outputs). */
  after?: () => void;
  /** Kill a run still going after this long; the row then fails with "timed out". */
  timeoutMs?: number;
  /** Why this row was not run (shown in the table). */
  skipped?: string | undefined;
  failed?: string;
  timedOutMs?: number | undefined;
  samples: Sample[];
}

export interface RowResult {
  id: string;
  label: string;
  command: string;
  floor?: string;
  ratioKind: 'time' | 'throughput';
  bytes: number;
  skipped?: string;
  failed?: string;
  /** The limit a run exceeded (the row failed with "timed out"). */
  timedOutMs?: number;
  samplesMs: number[];
  samplesRssKiB: Array<number | undefined>;
  summary?: Summary | undefined;
  mbPerSecond?: number;
  /** Relative to the floor row, per ratioKind. */
  ratio?: number;
  rssFloorKiB?: number;
  rssOverFloorKiB?: number;
  /**
   * For CLI rows compared with a Node floor: (median − CLI start-up median) /
   * (floor median − node start-up median), i.e. the ratio of the streaming part alone.
   */
  ratioNetOfStartup?: number;
}

/** The size-dependent rows measured again on a stream of another size (--sizes). */
export interface SizeRun {
  size: string;
  bytes: number;
  runs: number;
  /** True when this size is --size itself: the main table's rows, not measured twice. */
  fromMainTable: boolean;
  rows: RowResult[];
}

export interface TargetResult {
  /** Stable id of the target (one per bound of issue #15; size-dependent ones carry the size). */
  id: string;
  name: string;
  /** The bound, as text (≤ 0.8×, ≤ +24 MiB, ≤ 2 s ...). */
  target: string;
  value: string;
  /** true met, false missed, null not scored (row skipped or failed, or the size the bound is stated for was not run). */
  met: boolean | null;
  note?: string | undefined;
}

export interface FilesResult {
  kind: 'files';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  loadBefore: number[];
  loadAfter: number[];
  git?: { head: string; dirtySrcFiles: number } | undefined;
  cli: { path: string; builtAt?: string; staleWarning?: string; snapshot?: string };
  /** How Xen's verifier was run (interpreter version and how its real path was found), or why not. */
  xenVerifier: string;
  rssMethod: string;
  pageCache: string;
  order: string;
  size: string;
  bytes: number;
  runs: number;
  /** File names of the inputs (never their directory: result files carry no machine paths). */
  inputs: Record<string, string>;
  rows: RowResult[];
  sizes: SizeRun[];
  targets: TargetResult[];
  /** Other comparisons worth reading next to the targets (not targets themselves). */
  references: Array<{ name: string; value: string }>;
  notes: string[];
}
