/**
 * Micro-benchmarks of the codec (issue 8): synchronous, in memory, benchmark.js.
 * Every timed function checks its own result (so nothing can be optimised
 * away) and throws when it is wrong. Reported: ops/s, ± relative margin of
 * error, and effective bytes/s = wire bytes of the record × ops/s.
 *
 *   npx tsx bench/micro.ts [--max-time 1] [--filter page] [--results-dir bench/results] [--label NAME] [--no-write]
 *
 * The codec is imported from src/ (through tsx), so the numbers are those of
 * the working tree, not of a possibly stale dist/.
 */
import Benchmark from 'benchmark';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import {
  decodeRecord,
  decodeRecordHeader,
  encodeRecord,
  encodeRecordChunks,
  makeRecord,
  recordToJson,
  type PageDataBody,
  type RecordBody,
  type StreamRecord,
} from '../src/codec/index.js';
import type { BodyLayout, Dialect, Layer } from '../src/format/record-types.js';
import { PAGE_SIZE } from '../src/format/constants.js';
import { PAGE_TYPE } from '../src/format/page-types.js';
import {
  synthCpuidPolicy,
  synthEmulatorContext,
  synthEmulatorXenstore,
  synthHvmContext,
  synthMsrPolicy,
  synthP2mFrames,
  synthSharedInfo,
  synthVcpuBasic,
} from '../src/writer/synth-records.js';
import { parseArgs } from './lib/args.js';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { opsText, rate, table, writeResult } from './lib/report.js';

export interface MicroCase {
  name: string;
  /** What is timed, in words. */
  what: string;
  /** Bytes the operation covers (the whole record on the wire), for effective bytes/s. */
  bytes: number;
  fn: () => void;
}

export interface MicroRow {
  name: string;
  what: string;
  bytes: number;
  hz: number;
  rmePercent: number;
  samples: number;
  meanNs: number;
  bytesPerSecond: number;
}

export interface MicroResult {
  kind: 'micro';
  startedAt: string;
  machine: MachineInfo;
  maxTimeSeconds: number;
  rows: MicroRow[];
  targets: Array<{ name: string; target: string; value: string; met: boolean }>;
}

const AT = { offset: 0 };
/** Consumed by every case so results are observably used. */
let blackhole = 0;

function fail(name: string, why: string): never {
  throw new Error(`micro ${name}: wrong result (${why})`);
}

/** One PAGE_DATA record of `n` pfns (a few page-table pages among plain ones), pages filled. */
export function pageDataRecord(n = 1024): StreamRecord<PageDataBody> {
  const pfns: number[] = [];
  const types: number[] = [];
  for (let i = 0; i < n; i++) {
    pfns.push(0x10_0000 + i);
    types.push(i % 97 === 5 ? PAGE_TYPE.L1TAB : PAGE_TYPE.NOTAB);
  }
  const pageData = new Uint8Array(n * PAGE_SIZE);
  for (let i = 0; i < pageData.length; i += 64) pageData[i] = (i >>> 6) & 0xff;
  return makeRecord('libxc', 'PAGE_DATA', { kind: 'page-data', count: n, reserved: 0, pfns, types, pageData });
}

interface LayoutFixture {
  layout: BodyLayout;
  layer: Layer;
  name: string;
  dialect?: Dialect;
  body: RecordBody;
  /** A property of the decoded body that proves it was decoded (checked in the timed function). */
  check: (b: RecordBody) => boolean;
}

/** One realistic record per body layout other than PAGE_DATA (sizes as a 4.17 guest sends them). */
function layoutFixtures(): LayoutFixture[] {
  const p2m = synthP2mFrames(262144); // a 1 GiB PV guest: 512 frames
  const dirty: bigint[] = [];
  for (let i = 0; i < 1024; i++) dirty.push(BigInt(0x2_0000 + 3 * i));
  const pfnList = pageDataRecord(1024).body;
  return [
    { layout: 'empty', layer: 'libxc', name: 'END', body: { kind: 'empty' }, check: (b) => b.kind === 'empty' },
    {
      layout: 'opaque',
      layer: 'libxc',
      name: 'TOOLSTACK',
      body: { kind: 'opaque', data: new Uint8Array(256).fill(7) },
      check: (b) => b.kind === 'opaque' && b.data.length === 256,
    },
    {
      layout: 'pfn-list',
      layer: 'libxc',
      name: 'POSTCOPY_PFNS',
      dialect: 'postcopy-rfc',
      body: { kind: 'pfn-list', count: 1024, reserved: 0, pfns: pfnList.pfns, types: pfnList.types.map(() => PAGE_TYPE.NOTAB) },
      check: (b) => b.kind === 'pfn-list' && b.pfns[1023] === 0x10_0000 + 1023,
    },
    {
      layout: 'pv-info',
      layer: 'libxc',
      name: 'X86_PV_INFO',
      body: { kind: 'pv-info', guestWidth: 8, ptLevels: 4, reserved: new Uint8Array(6) },
      check: (b) => b.kind === 'pv-info' && b.guestWidth === 8,
    },
    {
      layout: 'p2m-frames',
      layer: 'libxc',
      name: 'X86_PV_P2M_FRAMES',
      body: { kind: 'p2m-frames', ...p2m },
      check: (b) => b.kind === 'p2m-frames' && b.frames.length === p2m.frames.length,
    },
    {
      layout: 'vcpu',
      layer: 'libxc',
      name: 'X86_PV_VCPU_BASIC',
      body: { kind: 'vcpu', vcpuId: 0, reserved: 0, context: synthVcpuBasic(1, 0) },
      check: (b) => b.kind === 'vcpu' && b.context.length === 0x1430,
    },
    {
      layout: 'shared-info',
      layer: 'libxc',
      name: 'SHARED_INFO',
      body: { kind: 'opaque', data: synthSharedInfo(1) },
      check: (b) => b.kind === 'opaque' && b.data.length === PAGE_SIZE,
    },
    {
      layout: 'tsc-info',
      layer: 'libxc',
      name: 'X86_TSC_INFO',
      body: { kind: 'tsc-info', mode: 0, khz: 2_400_000, nsec: 123_456_789_012n, incarnation: 1, reserved: 0 },
      check: (b) => b.kind === 'tsc-info' && b.khz === 2_400_000,
    },
    {
      layout: 'hvm-context',
      layer: 'libxc',
      name: 'HVM_CONTEXT',
      body: { kind: 'opaque', data: synthHvmContext(2_400_000) },
      check: (b) => b.kind === 'opaque' && b.data.length === 40,
    },
    {
      layout: 'hvm-params',
      layer: 'libxc',
      name: 'HVM_PARAMS',
      body: { kind: 'hvm-params', reserved: 0, params: [1, 5, 6, 17, 19, 12, 36].map((i) => ({ index: BigInt(i), value: BigInt(0xfeff0 + i) })) },
      check: (b) => b.kind === 'hvm-params' && b.params.length === 7,
    },
    {
      layout: 'cpuid-policy',
      layer: 'libxc',
      name: 'X86_CPUID_POLICY',
      body: { kind: 'cpuid-policy', leaves: synthCpuidPolicy() },
      check: (b) => b.kind === 'cpuid-policy' && b.leaves.length === 8,
    },
    {
      layout: 'msr-policy',
      layer: 'libxc',
      name: 'X86_MSR_POLICY',
      body: { kind: 'msr-policy', entries: synthMsrPolicy() },
      check: (b) => b.kind === 'msr-policy' && b.entries.length === 2,
    },
    {
      layout: 'dirty-pfn-list',
      layer: 'libxc',
      name: 'CHECKPOINT_DIRTY_PFN_LIST',
      body: { kind: 'dirty-pfn-list', pfns: dirty },
      check: (b) => b.kind === 'dirty-pfn-list' && b.pfns.length === 1024,
    },
    {
      layout: 'emulator-xenstore',
      layer: 'libxl',
      name: 'EMULATOR_XENSTORE_DATA',
      body: { kind: 'emulator-xenstore', emulatorId: 2, index: 0, pairs: synthEmulatorXenstore() },
      check: (b) => b.kind === 'emulator-xenstore' && b.pairs.length === 3,
    },
    {
      layout: 'emulator-context',
      layer: 'libxl',
      name: 'EMULATOR_CONTEXT',
      body: { kind: 'emulator-context', emulatorId: 2, index: 0, blob: synthEmulatorContext(1) },
      check: (b) => b.kind === 'emulator-context' && b.blob.length === 6132,
    },
    {
      layout: 'checkpoint-state',
      layer: 'libxl',
      name: 'CHECKPOINT_STATE',
      body: { kind: 'checkpoint-state', controlId: 3 },
      check: (b) => b.kind === 'checkpoint-state' && b.controlId === 3,
    },
  ];
}

export function microCases(): MicroCase[] {
  const cases: MicroCase[] = [];
  const page = pageDataRecord(1024);
  const pageBytes = encodeRecord(page);
  const lastPfn = page.body.pfns[1023];

  cases.push({
    name: 'record header decode',
    what: 'decodeRecordHeader on a PAGE_DATA record (8 bytes read)',
    bytes: 8,
    fn() {
      const h = decodeRecordHeader(pageBytes, 0);
      if (h.type !== 1 || h.bodyLength !== pageBytes.length - 8) fail('header', 'type/length');
      blackhole ^= h.bodyLength;
    },
  });
  cases.push({
    name: 'PAGE_DATA decode (1024 pages)',
    what: 'decodeRecord: header, count, pfn/type array of 1024, pages as one view',
    bytes: pageBytes.length,
    fn() {
      const { record, length } = decodeRecord('libxc', pageBytes, 0, AT);
      const b = record.body as PageDataBody;
      if (length !== pageBytes.length || b.pfns[1023] !== lastPfn || b.pageData.length !== 1024 * PAGE_SIZE) fail('PAGE_DATA', 'pfns/pages');
      blackhole ^= b.pfns[7];
    },
  });
  for (const f of layoutFixtures()) {
    const rec = makeRecord(f.layer, f.name, f.body, f.dialect ?? 'upstream');
    const bytes = encodeRecord(rec, f.dialect ?? 'upstream');
    const dialect = f.dialect ?? 'upstream';
    const check = f.check;
    cases.push({
      name: `${f.name} decode`,
      what: `decodeRecord, body layout ${f.layout} (${bytes.length} bytes on the wire)`,
      bytes: bytes.length,
      fn() {
        const { record, length } = decodeRecord(f.layer, bytes, 0, AT, dialect);
        if (length !== bytes.length || !check(record.body)) fail(f.name, 'body');
        blackhole ^= length;
      },
    });
  }
  cases.push({
    name: 'PAGE_DATA encode (1024 pages)',
    what: 'encodeRecordChunks: header + pfn array built, pages passed as a view',
    bytes: pageBytes.length,
    fn() {
      const chunks = encodeRecordChunks(page);
      let n = 0;
      for (const c of chunks) n += c.length;
      if (n !== pageBytes.length || chunks[1][8] !== pageBytes[16]) fail('encode', 'length');
      blackhole ^= n;
    },
  });
  const tsc = makeRecord('libxc', 'X86_TSC_INFO', { kind: 'tsc-info', mode: 0, khz: 2_400_000, nsec: 123_456_789_012n, incarnation: 1, reserved: 0 });
  const tscBytes = encodeRecord(tsc).length;
  cases.push({
    name: 'X86_TSC_INFO to JSON',
    what: 'recordToJson of a decoded 32-byte record (u64 as hex string)',
    bytes: tscBytes,
    fn() {
      const j = recordToJson(tsc);
      const body = j.body as { kind: string; nsec: string };
      if (body.kind !== 'tsc-info' || body.nsec !== '0x1cbe991a14') fail('json', 'nsec');
      blackhole ^= j.type;
    },
  });
  cases.push({
    name: 'X86_TSC_INFO to JSON text',
    what: 'JSON.stringify(recordToJson(...)): what dump --format ndjson pays per small record',
    bytes: tscBytes,
    fn() {
      const s = JSON.stringify(recordToJson(tsc));
      if (s.length < 60) fail('json text', 'length');
      blackhole ^= s.length;
    },
  });
  return cases;
}

export function runMicro(cases: readonly MicroCase[], maxTime: number, log: (s: string) => void = (s) => process.stdout.write(s)): MicroRow[] {
  const rows: MicroRow[] = [];
  for (const c of cases) {
    c.fn(); // fail fast with a clear message when a case is wrong, before timing
    const bench = new Benchmark(c.name, c.fn, { maxTime, minSamples: 5, initCount: 1 });
    bench.run({ async: false });
    if (bench.error) throw bench.error;
    const row: MicroRow = {
      name: c.name,
      what: c.what,
      bytes: c.bytes,
      hz: bench.hz,
      rmePercent: bench.stats.rme,
      samples: bench.stats.sample.length,
      meanNs: bench.stats.mean * 1e9,
      bytesPerSecond: bench.hz * c.bytes,
    };
    rows.push(row);
    log(`  ${c.name.padEnd(38)} ${opsText(row.hz).padStart(9)} ops/s ±${row.rmePercent.toFixed(1).padStart(4)}%  ${rate(row.bytesPerSecond).padStart(11)}\n`);
  }
  if (blackhole === 0x7fffffff) log('(blackhole)\n');
  return rows;
}

export function microTable(rows: readonly MicroRow[]): string[][] {
  return [
    ['operation', 'record bytes', 'ops/s', '± %', 'mean', 'effective'],
    ...rows.map((r) => [
      r.name,
      String(r.bytes),
      opsText(r.hz),
      r.rmePercent.toFixed(1),
      r.meanNs >= 1000 ? `${(r.meanNs / 1000).toFixed(2)} µs` : `${r.meanNs.toFixed(0)} ns`,
      rate(r.bytesPerSecond),
    ]),
  ];
}

export function microTargets(rows: readonly MicroRow[]): MicroResult['targets'] {
  const pd = rows.find((r) => r.name.startsWith('PAGE_DATA decode'));
  if (!pd) return [];
  return [{ name: 'PAGE_DATA decode in memory', target: '≥ 50 GB/s effective', value: rate(pd.bytesPerSecond), met: pd.bytesPerSecond >= 50e9 }];
}

export async function microMain(argv: readonly string[]): Promise<MicroResult> {
  const args = parseArgs(
    argv,
    {
      'max-time': { type: 'string', default: '1', describe: 'seconds benchmark.js spends per case' },
      filter: { type: 'string', describe: 'only cases whose name contains this (case-insensitive)' },
      'results-dir': { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), 'results'), describe: 'where the JSON result goes' },
      label: { type: 'string', describe: 'result file name suffix (default: a timestamp)' },
      write: { type: 'boolean', default: true, describe: 'write the JSON result (--no-write to skip)' },
    },
    'usage: tsx bench/micro.ts [options]',
  );
  const maxTime = Number(args['max-time']);
  const filter = typeof args.filter === 'string' ? args.filter.toLowerCase() : undefined;
  const cases = microCases().filter((c) => !filter || c.name.toLowerCase().includes(filter));
  const machine = machineInfo();
  process.stdout.write(
    `micro-benchmarks (benchmark.js ${Benchmark.version}, node ${process.version}, ${machine.nproc} cpus, load ${machine.loadavg.join(' ')}), ${maxTime} s per case:\n`,
  );
  const rows = runMicro(cases, maxTime);
  const result: MicroResult = { kind: 'micro', startedAt: new Date().toISOString(), machine, maxTimeSeconds: maxTime, rows, targets: microTargets(rows) };
  process.stdout.write(`\n${table(microTable(rows))}`);
  for (const t of result.targets) process.stdout.write(`target: ${t.name} ${t.target}: ${t.value} — ${t.met ? 'met' : 'MISSED'}\n`);
  if (args.write) process.stdout.write(`result: ${writeResult(String(args['results-dir']), 'micro', args.label as string | undefined, result)}\n`);
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await microMain(process.argv.slice(2));
}
