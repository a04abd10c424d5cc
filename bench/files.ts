/**
 * Whole-file benchmarks (issue 8): a synthetic PV stream of --size bytes, then
 * every command as its own child process, interleaved round-robin (the order
 * rotates each round), --runs rounds, median and min–max, peak RSS of each
 * (GNU time's %M of the process that matters), ratios to floors measured in
 * the same run:
 *
 *   read floor   node bench/floors/read-floor.mjs FILE (1 MiB buffer, reused, touching nothing)
 *   pipe floor   cat FILE > /dev/null
 *   copy floor   cp FILE OUT (in-kernel copy_file_range on Linux)
 *   user copy    node bench/floors/copy-floor.mjs FILE OUT (read + write through a 1 MiB buffer; reference for extract)
 *   write floor  node bench/floors/write-floor.mjs OUT BYTES
 *
 * --sizes 256M,1G,4G adds the memory-vs-size sweep: read floor and verify at
 * each size, showing whether verify's peak RSS stays flat.
 *
 *   npx tsx bench/files.ts [--size 256M] [--runs 5] [--sizes 256M,1G,4G] [--only verify,stats] [--dir /var/tmp/xms-bench]
 *
 * The CLI is run from a snapshot of dist/ taken at the start (in .bench-out/,
 * gitignored), so a rebuild by someone else mid-run cannot mix two builds in
 * one table (npm run build first). Big files live in --dir
 * and are deleted at the end unless --keep.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, parseSize } from './lib/args.js';
import { loadavg, machineInfo, type MachineInfo } from './lib/machine.js';
import { gnuTimeAvailable, runTimed, shellQuote, summarize, type Launch, type Sample, type Summary } from './lib/measure.js';
import { markdownTable, mib, table, writeResult } from './lib/report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const DIST_CLI = join(ROOT, 'dist', 'cli', 'stream-inspect.js');
/** The CLI the rows run: DIST_CLI, or its snapshot once runFiles took one. */
let CLI = DIST_CLI;
const READ_FLOOR = join(HERE, 'floors', 'read-floor.mjs');
const WRITE_FLOOR = join(HERE, 'floors', 'write-floor.mjs');
const COPY_FLOOR = join(HERE, 'floors', 'copy-floor.mjs');
const MiB = 2 ** 20;

/** One benchmarked command (a row of the table). */
export interface Row {
  id: string;
  label: string;
  /** The command line as a person would type it. */
  command: string;
  /** Row whose time this one is compared with, or none. */
  floor?: string;
  /** 'time': ratio = time / floor time (lower is better); 'throughput': ratio = floor time / time (higher is better). */
  ratioKind: 'time' | 'throughput';
  /** Row whose peak RSS is subtracted in the "RSS − floor" column (a Node process's baseline). */
  rssFloor?: string;
  /** Bytes read or written, for MB/s. */
  bytes: number;
  launch?: Launch;
  /** Returns an error text when a run's output is wrong. */
  check?: (s: Sample) => string | undefined;
  /** Run after every sample, outside the timing (delete outputs). */
  after?: () => void;
  /** Why this row was not run (shown in the table). */
  skipped?: string;
  failed?: string;
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
  samplesMs: number[];
  samplesRssKiB: Array<number | undefined>;
  summary?: Summary;
  mbPerSecond?: number;
  /** Relative to the floor row, per ratioKind. */
  ratio?: number;
  rssFloorKiB?: number;
  rssOverFloorKiB?: number;
  /**
   * For stream-inspect rows compared with the read floor: (median − CLI start-up median) /
   * (floor median − node start-up median), i.e. the ratio of the streaming part alone.
   */
  ratioNetOfStartup?: number;
}

export interface SweepRow {
  size: string;
  bytes: number;
  runs: number;
  floorMedianMs?: number;
  verifyMedianMs?: number;
  ratio?: number;
  floorRssKiB?: number;
  verifyRssKiB?: number;
  rssOverFloorKiB?: number;
  skipped?: string;
  failed?: string;
}

export interface Target {
  name: string;
  target: string;
  value: string;
  met: boolean | null;
  note?: string;
}

export interface FilesResult {
  kind: 'files';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  loadBefore: number[];
  loadAfter: number[];
  git?: { head: string; dirtySrcFiles: number };
  cli: { path: string; builtAt?: string; staleWarning?: string; snapshot?: string };
  rssMethod: string;
  pageCache: string;
  order: string;
  size: string;
  bytes: number;
  runs: number;
  file: string;
  rows: RowResult[];
  sweep: SweepRow[];
  targets: Target[];
  /** Other comparisons worth reading next to the targets (not targets themselves). */
  references: Array<{ name: string; value: string }>;
  notes: string[];
}

function nodeEnv(): NodeJS.ProcessEnv {
  // Children are plain node: no loader hooks or flags inherited from tsx / the caller.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

function rm(path: string): void {
  rmSync(path, { force: true });
}

function sh(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Which stream-inspect commands the built CLI has (`<cmd> --help` exits 0). */
function cliCommands(names: readonly string[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const n of names) {
    if (!existsSync(CLI)) {
      out.set(n, `skipped: ${CLI} missing (npm run build)`);
      continue;
    }
    const r = spawnSync(process.execPath, [CLI, n, '--help'], { encoding: 'utf8', env: nodeEnv() });
    out.set(n, r.status === 0 ? undefined : `skipped: command not available (stream-inspect ${n} --help exited ${r.status})`);
  }
  return out;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

interface XenVerifierInfo {
  script: string;
  pythonPath?: string;
}

/** Xen's verify-stream-v2, found the way the tests find it (test/support/xen-verifier.ts). */
async function findXen(): Promise<{ verifier?: XenVerifierInfo; reason?: string }> {
  try {
    const mod = (await import('../test/support/xen-verifier.js')) as {
      findXenVerifier: () => { verifier?: XenVerifierInfo; reason?: string };
    };
    return mod.findXenVerifier();
  } catch (e) {
    return { reason: `cannot load test/support/xen-verifier.ts: ${(e as Error).message}` };
  }
}

function cli(...args: string[]): string[] {
  return [process.execPath, CLI, ...args];
}

function expectExit0(s: Sample): string | undefined {
  if (s.exitCode !== 0) return `exit ${s.exitCode ?? s.signal}: ${s.stderrTail.trim().split('\n').slice(-3).join(' | ')}`;
  return undefined;
}

function expectOut(re: RegExp): (s: Sample) => string | undefined {
  return (s) => expectExit0(s) ?? (re.test(s.stdout) ? undefined : `unexpected output: ${s.stdout.slice(0, 200)}`);
}

/** Generate a PV stream with synth (not part of the interleaved timing). */
async function synthFile(path: string, size: string): Promise<{ bytes: number; ms: number }> {
  rm(path);
  const s = await runTimed({ argv: cli('synth', '--kind', 'pv', '--size', size, '-o', path, '-q'), env: nodeEnv() }, undefined);
  if (s.exitCode !== 0) throw new Error(`synth --size ${size} failed (exit ${s.exitCode}): ${s.stderrTail}`);
  return { bytes: statSync(path).size, ms: s.ms };
}

/**
 * Flush dirty pages (`sync`, outside any timing): the generated stream and the
 * outputs of earlier runs would otherwise be written back while later
 * commands are being timed, and Linux throttles writers (balance_dirty_pages)
 * when much is dirty, which made write timings swing 5× before this.
 */
export function settle(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

/** Read the file once so every command reads it from the page cache. */
function warm(path: string): void {
  const r = spawnSync(process.execPath, [READ_FLOOR, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`warming ${path} failed: ${r.stderr}`);
}

export interface FilesOptions {
  size: string;
  runs: number;
  sizes: string[];
  only?: string[];
  dir: string;
  /** Where outputs of the write rows go ('auto': /dev/shm when it is tmpfs with room, else dir). */
  outDir: string;
  resultsDir: string;
  label?: string;
  write: boolean;
  keep: boolean;
  log: (s: string) => void;
}

function buildRows(file: string, bytes: number, sizeText: string, outDir: string, tiny: string, avail: Map<string, string | undefined>, xen: { verifier?: XenVerifierInfo; reason?: string }): Row[] {
  const env = nodeEnv();
  const out = (name: string) => join(outDir, name);
  const rows: Row[] = [];
  const add = (r: Omit<Row, 'samples'>) => rows.push({ ...r, samples: [] });
  const q = shellQuote;
  const node = q(process.execPath);

  add({
    id: 'read-floor',
    label: 'raw read floor (node, 1 MiB buffer)',
    command: `node bench/floors/read-floor.mjs FILE`,
    ratioKind: 'time',
    bytes,
    launch: { argv: [process.execPath, READ_FLOOR, file], env },
    check: expectOut(new RegExp(`^${bytes}\\n`)),
  });
  add({
    id: 'node-startup',
    label: 'node start-up: node -e 0',
    command: 'node -e 0',
    ratioKind: 'time',
    bytes: 0,
    launch: { argv: [process.execPath, '-e', '0'], env },
    check: expectExit0,
  });
  add({
    id: 'startup',
    label: 'CLI start-up: verify of a 16-page stream',
    command: 'stream-inspect verify TINY',
    ratioKind: 'time',
    rssFloor: 'read-floor',
    bytes: 0,
    launch: { argv: cli('verify', tiny), env },
    check: expectOut(/VALID/),
    skipped: avail.get('verify'),
  });
  add({
    id: 'verify',
    label: 'verify',
    command: 'stream-inspect verify FILE',
    floor: 'read-floor',
    ratioKind: 'time',
    rssFloor: 'read-floor',
    bytes,
    launch: { argv: cli('verify', file), env },
    check: expectOut(/VALID/),
    skipped: avail.get('verify'),
  });
  add({
    id: 'stats',
    label: 'stats',
    command: 'stream-inspect stats FILE',
    floor: 'read-floor',
    ratioKind: 'time',
    rssFloor: 'read-floor',
    bytes,
    launch: { argv: cli('stats', file), env },
    check: expectOut(/records/),
    skipped: avail.get('stats'),
  });
  add({
    id: 'dump-ndjson',
    label: 'dump --format ndjson > /dev/null',
    command: 'stream-inspect dump --format ndjson FILE > /dev/null',
    floor: 'read-floor',
    ratioKind: 'time',
    rssFloor: 'read-floor',
    bytes,
    launch: { argv: cli('dump', '--format', 'ndjson', file), env, stdout: 'ignore' },
    check: expectExit0,
    skipped: avail.get('dump'),
  });
  if (xen.verifier) {
    const v = xen.verifier;
    const xenEnv = { ...process.env, ...(v.pythonPath ? { PYTHONPATH: [v.pythonPath, process.env.PYTHONPATH].filter(Boolean).join(':') } : {}) };
    add({
      id: 'xen-verify',
      label: "Xen's verify-stream-v2 (python3)",
      command: `python3 verify-stream-v2 -q -f libxl -i FILE`,
      floor: 'read-floor',
      ratioKind: 'time',
      bytes,
      launch: { argv: ['python3', v.script, '-q', '-f', 'libxl', '-i', file], env: xenEnv },
      check: expectExit0,
    });
  } else {
    add({ id: 'xen-verify', label: "Xen's verify-stream-v2 (python3)", command: 'python3 verify-stream-v2 -f libxl -i FILE', floor: 'read-floor', ratioKind: 'time', bytes, skipped: `skipped: ${xen.reason}` });
  }
  add({
    id: 'cp',
    label: 'copy floor: cp',
    command: 'cp FILE OUT',
    ratioKind: 'time',
    bytes,
    launch: { argv: ['cp', file, out('cp.out')] },
    check: expectExit0,
    after: () => rm(out('cp.out')),
  });
  add({
    id: 'user-copy',
    label: 'user-space copy: node read+write 1 MiB',
    command: 'node bench/floors/copy-floor.mjs FILE OUT',
    floor: 'cp',
    ratioKind: 'time',
    bytes,
    launch: { argv: [process.execPath, COPY_FLOOR, file, out('user-copy.out')], env },
    check: expectOut(new RegExp(`^${bytes}\\n`)),
    after: () => rm(out('user-copy.out')),
  });
  add({
    id: 'extract',
    label: 'extract -o mem.raw',
    command: 'stream-inspect extract FILE -o OUT',
    floor: 'cp',
    ratioKind: 'time',
    rssFloor: 'read-floor',
    bytes,
    launch: { argv: cli('extract', file, '-o', out('extract.raw')), env },
    check: expectOut(/pages of data/),
    after: () => rm(out('extract.raw')),
    skipped: avail.get('extract'),
  });
  add({
    id: 'pipe-floor',
    label: 'pipe floor: cat > /dev/null',
    command: 'cat FILE > /dev/null',
    ratioKind: 'time',
    bytes,
    launch: { shell: (t) => `${t} cat ${q(file)} > /dev/null` },
    check: expectExit0,
  });
  add({
    id: 'pipe-read-floor',
    label: 'cat | node read floor (reference)',
    command: 'cat FILE | node bench/floors/read-floor.mjs -',
    floor: 'pipe-floor',
    ratioKind: 'time',
    bytes,
    launch: { shell: (t) => `cat ${q(file)} | ${t} ${node} ${q(READ_FLOOR)} -`, env },
    check: expectOut(new RegExp(`^${bytes}\\n`)),
  });
  add({
    id: 'pipe-verify',
    label: 'cat | verify -',
    command: 'cat FILE | stream-inspect verify -',
    floor: 'pipe-floor',
    ratioKind: 'time',
    rssFloor: 'pipe-read-floor',
    bytes,
    launch: { shell: (t) => `cat ${q(file)} | ${t} ${node} ${q(CLI)} verify -`, env },
    check: expectOut(/VALID/),
    skipped: avail.get('verify'),
  });
  add({
    id: 'write-floor',
    label: 'raw write floor (node, 1 MiB buffer)',
    command: `node bench/floors/write-floor.mjs OUT ${bytes}`,
    ratioKind: 'throughput',
    bytes,
    launch: { argv: [process.execPath, WRITE_FLOOR, out('write-floor.out'), String(bytes)], env },
    check: expectExit0,
    after: () => rm(out('write-floor.out')),
  });
  add({
    id: 'synth',
    label: 'synth (writer)',
    command: `stream-inspect synth --kind pv --size ${sizeText} -o OUT -q`,
    floor: 'write-floor',
    ratioKind: 'throughput',
    rssFloor: 'read-floor',
    bytes,
    launch: { argv: cli('synth', '--kind', 'pv', '--size', sizeText, '-o', out('synth.out'), '-q'), env },
    check: (s) => expectExit0(s) ?? (statSync(out('synth.out')).size === bytes ? undefined : `synth wrote ${statSync(out('synth.out')).size} bytes, expected ${bytes}`),
    after: () => rm(out('synth.out')),
    skipped: avail.get('synth'),
  });
  return rows;
}

/**
 * Outputs go to tmpfs by default: on this project's VM the disk is ext4
 * mounted with `discard`, so deleting a 1 GiB output slowed the next writes
 * by up to 5× and write timings measured the disk's mood, not the tools.
 * In memory, every writer is compared on the same, stable ground.
 */
function chooseOutDir(requested: string, dir: string, bytes: number): { path: string; why: string } {
  if (requested !== 'auto') return { path: resolve(requested), why: '--out-dir' };
  try {
    const shm = '/dev/shm';
    const fsType = readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === shm)?.split(' ')[2];
    const st = statfsSync(shm);
    const free = st.bavail * st.bsize;
    if (fsType === 'tmpfs' && free > 2 * bytes + 256 * MiB) {
      return { path: join(shm, `xms-bench-${process.pid}`), why: 'tmpfs: writes measured without the disk (use --out-dir DIR to write to a disk)' };
    }
    return { path: dir, why: `/dev/shm is not tmpfs or has under 2× the stream free (${Math.round(free / MiB)} MiB): writing to --dir` };
  } catch (e) {
    return { path: dir, why: `no /dev/shm (${(e as Error).message}): writing to --dir` };
  }
}

/** Interleave: round r runs every row once, starting at a different row each round. */
async function runRounds(rows: Row[], runs: number, rssFile: string | undefined, log: (s: string) => void): Promise<void> {
  const live = () => rows.filter((r) => !r.skipped && !r.failed && r.launch);
  for (let round = 0; round < runs; round++) {
    const order = live();
    const start = order.length ? round % order.length : 0;
    const rotated = [...order.slice(start), ...order.slice(0, start)];
    log(`  round ${round + 1}/${runs}:`);
    for (const row of rotated) {
      const s = await runTimed(row.launch as Launch, rssFile);
      const err = row.check?.(s);
      if (row.after) {
        row.after();
        settle();
      }
      if (err) {
        row.failed = `failed: ${err}`;
        log(` ${row.id}=FAILED`);
        continue;
      }
      row.samples.push(s);
      log(` ${row.id}=${(s.ms / 1000).toFixed(2)}s`);
    }
    log('\n');
  }
}

function rowResult(row: Row, rows: readonly Row[]): RowResult {
  const summary = summarize(row.samples);
  const byId = (id: string | undefined) => rows.find((r) => r.id === id);
  const floor = byId(row.floor);
  const floorSummary = floor ? summarize(floor.samples) : undefined;
  const rssFloor = summarize(byId(row.rssFloor)?.samples ?? [])?.rssKiB;
  const r: RowResult = {
    id: row.id,
    label: row.label,
    command: row.command,
    floor: row.floor,
    ratioKind: row.ratioKind,
    bytes: row.bytes,
    samplesMs: row.samples.map((s) => Math.round(s.ms * 10) / 10),
    samplesRssKiB: row.samples.map((s) => s.rssKiB),
  };
  if (row.skipped) r.skipped = row.skipped;
  if (row.failed) r.failed = row.failed;
  if (summary) {
    r.summary = summary;
    if (row.bytes > 0) r.mbPerSecond = row.bytes / 1e6 / (summary.medianMs / 1000);
    if (floorSummary) r.ratio = row.ratioKind === 'time' ? summary.medianMs / floorSummary.medianMs : floorSummary.medianMs / summary.medianMs;
    if (rssFloor !== undefined && summary.rssKiB !== undefined) {
      r.rssFloorKiB = rssFloor;
      r.rssOverFloorKiB = summary.rssKiB - rssFloor;
    }
    const cliStart = summarize(byId('startup')?.samples ?? [])?.medianMs;
    const nodeStart = summarize(byId('node-startup')?.samples ?? [])?.medianMs;
    const nodeFloor = row.floor === 'read-floor' || row.floor === 'write-floor';
    if (row.launch && 'argv' in row.launch && row.launch.argv[1] === CLI && nodeFloor && floorSummary && cliStart !== undefined && nodeStart !== undefined) {
      const den = row.ratioKind === 'time' ? floorSummary.medianMs - nodeStart : summary.medianMs - cliStart;
      const num = row.ratioKind === 'time' ? summary.medianMs - cliStart : floorSummary.medianMs - nodeStart;
      if (den > 0) r.ratioNetOfStartup = num / den;
    }
  }
  return r;
}

export function filesTable(rows: readonly RowResult[]): string[][] {
  const out: string[][] = [['command', 'runs', 'median s', 'min–max s', 'MB/s', 'vs floor', 'floor', 'net of start-up', 'peak RSS MiB', 'RSS − floor MiB']];
  for (const r of rows) {
    if (!r.summary) {
      out.push([r.label, '0', r.skipped ?? r.failed ?? 'no samples', '', '', '', '', '', '', '']);
      continue;
    }
    const s = r.summary;
    const ratio = r.ratio === undefined ? '' : r.ratioKind === 'time' ? `${r.ratio.toFixed(2)}× time` : `${r.ratio.toFixed(2)}× thr.`;
    out.push([
      r.failed ? `${r.label} (${r.failed})` : r.label,
      String(s.runs),
      (s.medianMs / 1000).toFixed(3),
      `${(s.minMs / 1000).toFixed(3)}–${(s.maxMs / 1000).toFixed(3)}`,
      r.mbPerSecond === undefined ? '' : r.mbPerSecond.toFixed(0),
      ratio,
      r.floor ?? '',
      r.ratioNetOfStartup === undefined ? '' : `${r.ratioNetOfStartup.toFixed(2)}×`,
      mib(s.rssKiB),
      r.rssOverFloorKiB === undefined ? '' : `${r.rssOverFloorKiB >= 0 ? '+' : ''}${mib(r.rssOverFloorKiB)}`,
    ]);
  }
  return out;
}

export function sweepTable(rows: readonly SweepRow[]): string[][] {
  const out: string[][] = [['stream size', 'runs', 'read floor s', 'verify s', 'verify / floor', 'floor RSS MiB', 'verify RSS MiB', 'RSS − floor MiB']];
  for (const r of rows) {
    if (r.skipped || r.failed) {
      out.push([r.size, String(r.runs), r.skipped ?? r.failed ?? '', '', '', '', '', '']);
      continue;
    }
    out.push([
      `${r.size} (${r.bytes} B)`,
      String(r.runs),
      r.floorMedianMs === undefined ? '' : (r.floorMedianMs / 1000).toFixed(3),
      r.verifyMedianMs === undefined ? '' : (r.verifyMedianMs / 1000).toFixed(3),
      r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
      mib(r.floorRssKiB),
      mib(r.verifyRssKiB),
      r.rssOverFloorKiB === undefined ? '' : `+${mib(r.rssOverFloorKiB)}`,
    ]);
  }
  return out;
}

function targets(rows: readonly RowResult[], sweep: readonly SweepRow[], size: string): Target[] {
  const get = (id: string) => rows.find((r) => r.id === id);
  const out: Target[] = [];
  const ratioTarget = (id: string, name: string, limit: number, kind: 'max' | 'min', note?: string) => {
    const r = get(id);
    if (!r || r.ratio === undefined) {
      out.push({ name, target: `${kind === 'max' ? '≤' : '≥'} ${limit}×`, value: r?.skipped ?? r?.failed ?? 'not measured', met: null });
      return;
    }
    out.push({ name, target: `${kind === 'max' ? '≤' : '≥'} ${limit}×`, value: `${r.ratio.toFixed(2)}×`, met: kind === 'max' ? r.ratio <= limit : r.ratio >= limit, ...(note ? { note } : {}) });
  };
  ratioTarget('verify', 'verify time vs raw read floor (page cache)', 1.15, 'max', parseSize(size) < 2 ** 30 ? 'the target is stated for ≥ 1 GiB; this run is smaller, so start-up weighs more' : undefined);
  ratioTarget('stats', 'stats time vs raw read floor', 1.3, 'max');
  ratioTarget('extract', 'extract time vs cp', 1.5, 'max');
  ratioTarget('synth', 'synth throughput vs raw write floor', 0.8, 'min');
  const v = get('verify');
  const rssPoints: Array<{ size: string; over?: number }> = [];
  if (v?.rssOverFloorKiB !== undefined) rssPoints.push({ size, over: v.rssOverFloorKiB });
  for (const s of sweep) if (s.rssOverFloorKiB !== undefined && s.size !== size) rssPoints.push({ size: s.size, over: s.rssOverFloorKiB });
  if (rssPoints.length) {
    const worst = Math.max(...rssPoints.map((p) => p.over ?? 0));
    out.push({
      name: 'verify peak RSS vs read floor process, every size measured',
      target: '≤ +16 MiB',
      value: rssPoints.map((p) => `${p.size}: +${mib(p.over)} MiB`).join(', '),
      met: worst <= 16 * 1024,
    });
  } else {
    out.push({ name: 'verify peak RSS vs read floor process', target: '≤ +16 MiB', value: 'not measured', met: null });
  }
  return out;
}

function references(rows: readonly RowResult[]): FilesResult['references'] {
  const get = (id: string) => rows.find((r) => r.id === id)?.summary;
  const out: FilesResult['references'] = [];
  const ratio = (name: string, a: string, b: string) => {
    const x = get(a);
    const y = get(b);
    if (x && y) out.push({ name, value: `${(x.medianMs / y.medianMs).toFixed(2)}×` });
  };
  ratio('extract time vs user-space copy (node read + write, 1 MiB)', 'extract', 'user-copy');
  ratio('cat | verify - time vs cat | node read floor', 'pipe-verify', 'pipe-read-floor');
  ratio('CLI start-up (verify of a 16-page stream) vs node -e 0', 'startup', 'node-startup');
  for (const r of rows) if (r.ratioNetOfStartup !== undefined) out.push({ name: `${r.id} vs its floor, net of start-up`, value: `${r.ratioNetOfStartup.toFixed(2)}×` });
  return out;
}

async function sweepOne(size: string, opts: FilesOptions, rssFile: string | undefined, verifySkipped: string | undefined, mainFile: { path: string; bytes: number; size: string }): Promise<SweepRow> {
  const runs = Math.max(3, Math.min(opts.runs, 5));
  if (verifySkipped) return { size, bytes: parseSize(size), runs: 0, skipped: verifySkipped };
  const reuse = parseSize(size) === parseSize(mainFile.size);
  const path = reuse ? mainFile.path : join(opts.dir, `sweep-pv-${size}.bin`);
  let bytes = mainFile.bytes;
  if (!reuse) {
    opts.log(`sweep ${size}: synth … `);
    const g = await synthFile(path, size);
    bytes = g.bytes;
    opts.log(`${bytes} bytes in ${(g.ms / 1000).toFixed(1)} s; sync; warming the page cache\n`);
    settle();
    warm(path);
  }
  const env = nodeEnv();
  const rows: Row[] = [
    { id: 'read-floor', label: 'read floor', command: '', ratioKind: 'time', bytes, launch: { argv: [process.execPath, READ_FLOOR, path], env }, check: expectOut(/^\d+\n/), samples: [] },
    { id: 'verify', label: 'verify', command: '', floor: 'read-floor', ratioKind: 'time', rssFloor: 'read-floor', bytes, launch: { argv: cli('verify', path), env }, check: expectOut(/VALID/), samples: [] },
  ];
  await runRounds(rows, runs, rssFile, opts.log);
  if (!reuse && !opts.keep) rm(path);
  const [f, v] = rows.map((r) => rowResult(r, rows));
  const row: SweepRow = { size, bytes, runs };
  if (v.failed || f.failed) row.failed = v.failed ?? f.failed;
  row.floorMedianMs = f.summary?.medianMs;
  row.verifyMedianMs = v.summary?.medianMs;
  row.ratio = v.ratio;
  row.floorRssKiB = f.summary?.rssKiB;
  row.verifyRssKiB = v.summary?.rssKiB;
  row.rssOverFloorKiB = v.rssOverFloorKiB;
  return row;
}

export async function runFiles(opts: FilesOptions): Promise<FilesResult> {
  const { log } = opts;
  const startedAt = new Date().toISOString();
  mkdirSync(opts.dir, { recursive: true });
  const machine = machineInfo(opts.dir);
  const loadBefore = loadavg();
  const notes: string[] = [];
  const haveTime = gnuTimeAvailable();
  const rssFile = haveTime ? join(opts.dir, `.rss-${process.pid}`) : undefined;
  const rssMethod = haveTime
    ? `GNU time: /usr/bin/time -f %M (peak RSS, KiB, of the one process it wraps; for pipelines the node process, not cat)`
    : 'not measured: /usr/bin/time (GNU time) is missing — apt-get install -y time';
  if (!haveTime) notes.push(rssMethod);

  const cliInfo: FilesResult['cli'] = { path: DIST_CLI };
  let snapshot: string | undefined;
  if (existsSync(DIST_CLI)) {
    const built = statSync(DIST_CLI).mtimeMs;
    snapshot = join(ROOT, '.bench-out', `dist-${process.pid}`);
    rmSync(snapshot, { recursive: true, force: true });
    mkdirSync(dirname(snapshot), { recursive: true });
    cpSync(join(ROOT, 'dist'), snapshot, { recursive: true });
    CLI = join(snapshot, 'cli', 'stream-inspect.js');
    const snap = snapshot;
    process.once('exit', () => rmSync(snap, { recursive: true, force: true })); // also when a run throws
    cliInfo.snapshot = `dist/ as built at ${new Date(built).toISOString()}, copied to ${snapshot} for the run`;
    cliInfo.builtAt = new Date(built).toISOString();
    const newest = newestMtime(join(ROOT, 'src'));
    if (newest > built) cliInfo.staleWarning = `src/ has files newer than dist/ (by ${((newest - built) / 1000).toFixed(0)} s): run npm run build for current numbers`;
  }
  if (cliInfo.staleWarning) {
    notes.push(cliInfo.staleWarning);
    log(`warning: ${cliInfo.staleWarning}\n`);
  }
  const head = sh('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain', '--', 'src']);
  const git = head ? { head, dirtySrcFiles: dirty ? dirty.split('\n').filter(Boolean).length : 0 } : undefined;

  const avail = cliCommands(['verify', 'stats', 'dump', 'extract', 'synth']);
  for (const [n, why] of avail) if (why) log(`${n}: ${why}\n`);
  if (avail.get('synth')) throw new Error(`cannot generate the stream: ${avail.get('synth')}`);
  const xen = await findXen();
  log(xen.verifier ? `Xen verifier: ${xen.verifier.script}\n` : `Xen verifier: skipped: ${xen.reason}\n`);

  const file = join(opts.dir, `pv-${opts.size}.bin`);
  const tiny = join(opts.dir, 'tiny-pv.bin');
  log(`machine: ${machine.nproc} cpus (${machine.cpuModel}), ${machine.memTotalMiB} MiB, node ${machine.node}, disk ${machine.disk ?? '?'}; load ${loadBefore.join(' ')}\n`);
  log(`synth --kind pv --size ${opts.size} -o ${file} … `);
  const gen = await synthFile(file, opts.size);
  log(`${gen.bytes} bytes in ${(gen.ms / 1000).toFixed(1)} s\n`);
  settle();
  const tinyGen = await runTimed({ argv: cli('synth', '--kind', 'pv', '--pages', '16', '-o', tiny, '-q'), env: nodeEnv() }, undefined);
  if (tinyGen.exitCode !== 0) throw new Error(`synth of the tiny stream failed: ${tinyGen.stderrTail}`);
  const pageCache = `the stream was synced to disk and then read once before timing (node read floor), so every command reads it from the page cache (${machine.memAvailableMiB} MiB available); outputs are deleted and \`sync\` is run after every run that writes, outside the timing`;
  log(`warming the page cache: reading ${file} once\n`);
  warm(file);

  const outDir = chooseOutDir(opts.outDir, opts.dir, gen.bytes);
  log(`outputs of the write rows go to ${outDir.path} (${outDir.why})\n`);
  notes.push(`outputs (cp, extract, synth, write floors) written to ${outDir.path}: ${outDir.why}`);
  mkdirSync(outDir.path, { recursive: true });
  let rows = buildRows(file, gen.bytes, opts.size, outDir.path, tiny, avail, xen);
  if (opts.only) {
    const keep = new Set([...opts.only, 'node-startup', 'startup']);
    // Keep the floors the selected rows are compared with.
    for (const r of rows) if (keep.has(r.id)) for (const f of [r.floor, r.rssFloor]) if (f) keep.add(f);
    rows = rows.filter((r) => keep.has(r.id));
  }
  const order = `round-robin: each of the ${opts.runs} rounds runs every command once, starting one command later than the round before`;
  log(`${rows.filter((r) => !r.skipped).length} commands × ${opts.runs} runs, interleaved (${order}):\n`);
  await runRounds(rows, opts.runs, rssFile, log);
  const results = rows.map((r) => rowResult(r, rows));

  const sweep: SweepRow[] = [];
  for (const size of opts.sizes) {
    log(`memory vs size: ${size}\n`);
    sweep.push(await sweepOne(size, opts, rssFile, avail.get('verify'), { path: file, bytes: gen.bytes, size: opts.size }));
  }

  if (!opts.keep) {
    rm(file);
    rm(tiny);
  }
  if (rssFile) rm(rssFile);
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  if (outDir.path !== opts.dir && outDir.why.startsWith('tmpfs')) rmSync(outDir.path, { recursive: true, force: true });
  CLI = DIST_CLI;
  const result: FilesResult = {
    kind: 'files',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    loadBefore,
    loadAfter: loadavg(),
    git,
    cli: cliInfo,
    rssMethod,
    pageCache,
    order,
    size: opts.size,
    bytes: gen.bytes,
    runs: opts.runs,
    file,
    rows: results,
    sweep,
    targets: targets(results, sweep, opts.size),
    references: references(results),
    notes,
  };
  return result;
}

export function renderFiles(r: FilesResult, markdown = false): string {
  const t = markdown ? markdownTable : table;
  let s = `\nwhole-file benchmarks: ${r.size} PV stream (${r.bytes} bytes), ${r.runs} runs each, interleaved; MB/s = 10^6 bytes/s of the stream; load ${r.loadBefore.join(' ')} → ${r.loadAfter.join(' ')}\n\n`;
  s += t(filesTable(r.rows));
  if (r.sweep.length) s += `\npeak memory vs stream size (verify against the read floor, same run):\n\n` + t(sweepTable(r.sweep));
  s += '\ntargets:\n';
  for (const x of r.targets) s += `  ${x.met === null ? 'n/a   ' : x.met ? 'met   ' : 'MISSED'} ${x.name} ${x.target}: ${x.value}${x.note ? ` (${x.note})` : ''}\n`;
  if (r.references.length) s += 'for reference:\n';
  for (const x of r.references) s += `  ${x.name}: ${x.value}\n`;
  for (const n of r.notes) s += `note: ${n}\n`;
  return s;
}

export const FILES_OPTIONS = {
  size: { type: 'string', default: '256M', describe: 'stream size for the table (synth --size: guest memory; the stream is about that size)' },
  runs: { type: 'string', default: '5', describe: 'interleaved rounds (every command once per round)' },
  sizes: { type: 'string', default: '', describe: 'memory-vs-size sweep, e.g. 256M,1G,4G (verify and the read floor at each)' },
  only: { type: 'string', describe: 'only these rows (ids, comma-separated; their floors come along), e.g. verify,stats' },
  dir: { type: 'string', default: '/var/tmp/xms-bench', describe: 'where the big input streams go (never the repo)' },
  'out-dir': { type: 'string', default: 'auto', describe: 'where the write rows write (auto: /dev/shm when tmpfs with room, else --dir)' },
  'results-dir': { type: 'string', default: join(HERE, 'results'), describe: 'where the JSON result goes' },
  label: { type: 'string', describe: 'result file name suffix (default: a timestamp)' },
  write: { type: 'boolean', default: true, describe: 'write the JSON result (--no-write to skip)' },
  keep: { type: 'boolean', default: false, describe: 'keep the generated streams in --dir' },
  markdown: { type: 'boolean', default: false, describe: 'also print the tables as Markdown' },
} as const;

export function filesOptionsFrom(args: Record<string, string | boolean | undefined>, log: (s: string) => void): FilesOptions & { markdown: boolean } {
  const size = String(args.size);
  parseSize(size);
  const runs = Number(args.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const sizes = String(args.sizes ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  for (const s of sizes) parseSize(s);
  const dir = resolve(String(args.dir));
  if (dir === ROOT || dir.startsWith(ROOT + '/')) throw new Error(`--dir ${dir} is inside the repository: big files never go there`);
  return {
    size,
    runs,
    sizes,
    only: typeof args.only === 'string' ? args.only.split(',').map((x) => x.trim()) : undefined,
    dir,
    outDir: String(args['out-dir']),
    resultsDir: resolve(String(args['results-dir'])),
    label: typeof args.label === 'string' ? args.label : undefined,
    write: args.write !== false,
    keep: args.keep === true,
    markdown: args.markdown === true,
    log,
  };
}

export async function filesMain(argv: readonly string[], log: (s: string) => void = (s) => process.stdout.write(s)): Promise<FilesResult> {
  const args = parseArgs(argv, FILES_OPTIONS, 'usage: tsx bench/files.ts [options]');
  const opts = filesOptionsFrom(args, log);
  const result = await runFiles(opts);
  log(renderFiles(result));
  if (opts.markdown) log('\n' + renderFiles(result, true));
  if (opts.write) log(`result: ${writeResult(opts.resultsDir, 'files', opts.label, result)}\n`);
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await filesMain(process.argv.slice(2));
}
