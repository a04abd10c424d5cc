/**
 * Three ways to decode a fixed layout, on the layouts the reader meets most
 * (issue 16: "binary-parser for all fixed layouts, or for none"):
 *   - binary-parser: a Parser built from the layout table (its compiled, eval'd parser);
 *   - the engine: layoutCodec(table).decode (closures over the table, src/codec/layout-codec.ts);
 *   - hand-written DataView reads at the table's offsets (what the hot paths keep).
 * And the reader's hot path as a whole: readStreamSync over an in-memory stream
 * of PAGE_DATA records (record header + PAGE_DATA head + per-pfn loop), to compare
 * this tree with another by running the same file there.
 *
 * Timing is CPU time (process.cpuUsage) per operation, the minimum and the
 * median over rounds of ~20 ms: on a shared, loaded machine wall-clock rates
 * (benchmark.js) swing by ±100 %, CPU time of the benchmark's own thread far less.
 *
 *   npx tsx bench/layout-engines.ts [--rounds 15] [--filter pv]
 */
import { Parser } from 'binary-parser';
import type { Layout } from '../src/format/layout.js';
import { RECORD_HEADER } from '../src/format/layouts/record-header.js';
import { X86_PV_INFO } from '../src/format/layouts/x86-pv-info.js';
import { X86_TSC_INFO } from '../src/format/layouts/x86-tsc-info.js';
import { layoutCodec } from '../src/codec/layout-codec.js';
import { encodeLibxcDomainHeader, encodeLibxcImageHeader } from '../src/codec/headers.js';
import { encodeRecord, makeRecord } from '../src/codec/records.js';
import { concatBytes } from '../src/codec/bytes.js';
import { readStreamSync } from '../src/reader/stream-reader.js';
import { PAGE_SIZE } from '../src/format/constants.js';
import { PAGE_TYPE } from '../src/format/page-types.js';
import { parseArgs } from './lib/args.js';
import { table } from './lib/report.js';

/** A binary-parser Parser generated from a layout table (scalars and byte strings: what these layouts use). */
export function parserFromTable(layout: Layout): Parser {
  let p = new Parser().endianness(layout.endian ?? 'little');
  for (const f of layout.fields) {
    if (f.type === 'bytes') p = p.buffer(f.name, { length: f.size, clone: false });
    else if (f.type === 'u8') p = p.uint8(f.name);
    else if (f.type === 'u16') p = p.uint16(f.name);
    else if (f.type === 'u32') p = p.uint32(f.name);
    else if (f.type === 'u64') p = p.uint64(f.name);
    else throw new Error(`${layout.name}.${f.name}: not needed by this benchmark`);
  }
  return p;
}

interface Case {
  name: string;
  fn: () => void;
}

let blackhole = 0;

function layoutCases(layout: Layout, bytes: Uint8Array, hand: (dv: DataView) => number, pick: (v: Record<string, unknown>) => number): Case[] {
  const parser = parserFromTable(layout);
  const codec = layoutCodec(layout);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const want = hand(dv);
  const check = (got: number, how: string) => {
    if (got !== want) throw new Error(`${layout.name} ${how}: ${got} ≠ ${want}`);
    blackhole ^= got;
  };
  return [
    { name: `${layout.name}: binary-parser (compiled from the table)`, fn: () => check(pick(parser.parse(bytes) as Record<string, unknown>), 'binary-parser') },
    { name: `${layout.name}: engine (layoutCodec.decode)`, fn: () => check(pick(codec.decode(bytes) as Record<string, unknown>), 'engine') },
    { name: `${layout.name}: DataView by hand (table offsets)`, fn: () => check(hand(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)), 'hand') },
  ];
}

/** An in-memory libxc stream: headers, STATIC_DATA_END, `records` PAGE_DATA of `pages` pages each, END. */
function pageStream(records: number, pages: number): Uint8Array {
  const chunks = [
    encodeLibxcImageHeader({ version: 3, options: 0, reserved16: 0, reserved32: 0 }),
    encodeLibxcDomainHeader({ domainType: 2, pageShift: 12, reserved: 0, xenMajor: 4, xenMinor: 17 }),
    encodeRecord(makeRecord('libxc', 'STATIC_DATA_END', { kind: 'empty' })),
  ];
  const pageData = new Uint8Array(pages * PAGE_SIZE);
  for (let r = 0; r < records; r++) {
    const pfns = Array.from({ length: pages }, (_, i) => r * pages + i);
    const types = pfns.map(() => PAGE_TYPE.NOTAB);
    chunks.push(encodeRecord(makeRecord('libxc', 'PAGE_DATA', { kind: 'page-data', count: pages, reserved: 0, pfns, types, pageData })));
  }
  chunks.push(encodeRecord(makeRecord('libxc', 'END', { kind: 'empty' })));
  return concatBytes(chunks);
}

function cases(): Case[] {
  const header = Uint8Array.of(1, 0, 0, 0, 0x10, 0x20, 0, 0);
  const pvInfo = Uint8Array.of(8, 4, 0, 0, 0, 0, 0, 0);
  const tsc = layoutCodec(X86_TSC_INFO).encode({ mode: 0, khz: 2_400_000, nsec: 123_456_789n, incarnation: 3, reserved: 0 });
  const stream = pageStream(512, 64);
  return [
    ...layoutCases(
      RECORD_HEADER,
      header,
      (dv) => dv.getUint32(0, true) + dv.getUint32(4, true),
      (v) => (v.type as number) + (v.bodyLength as number),
    ),
    ...layoutCases(
      X86_PV_INFO,
      pvInfo,
      (dv) => dv.getUint8(0) * 16 + dv.getUint8(1),
      (v) => (v.guestWidth as number) * 16 + (v.ptLevels as number),
    ),
    ...layoutCases(
      X86_TSC_INFO,
      tsc,
      (dv) => dv.getUint32(4, true) + Number(dv.getBigUint64(8, true)),
      (v) => (v.khz as number) + Number(v.nsec as bigint),
    ),
    {
      name: `reader: readStreamSync, 512 PAGE_DATA × 64 pages (${(stream.length / 2 ** 20).toFixed(0)} MiB)`,
      fn() {
        let n = 0;
        for (const item of readStreamSync(stream, { container: 'libxc' })) if (item.kind === 'record') n++;
        if (n !== 514) throw new Error(`reader: ${n} records`);
        blackhole ^= n;
      },
    },
  ];
}

/** CPU ns per call of `fn`: [min, median] over `rounds` rounds (after a warm-up). */
function cpuNsPerOp(fn: () => void, rounds: number): [number, number] {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) * 1000;
  };
  let batch = 1;
  for (let t0 = cpu(); cpu() - t0 < 20e6; batch *= 2) for (let i = 0; i < batch; i++) fn();
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = cpu();
    for (let i = 0; i < batch; i++) fn();
    per.push((cpu() - t0) / batch);
  }
  per.sort((x, y) => x - y);
  return [per[0], per[Math.floor(per.length / 2)]];
}

async function main(): Promise<void> {
  const args = parseArgs(
    process.argv.slice(2),
    {
      rounds: { type: 'string', default: '15', describe: 'timed rounds per case (~20 ms of CPU each)' },
      filter: { type: 'string', describe: 'only cases whose name contains this (case-insensitive)' },
    },
    'usage: tsx bench/layout-engines.ts [options]',
  );
  const filter = typeof args.filter === 'string' ? args.filter.toLowerCase() : undefined;
  const rows: string[][] = [['case', 'CPU ns/op (min)', '(median)']];
  for (const c of cases().filter((x) => !filter || x.name.toLowerCase().includes(filter))) {
    const [min, median] = cpuNsPerOp(c.fn, Number(args.rounds));
    const fmt = (n: number) => (n >= 1e5 ? n.toExponential(3) : n.toFixed(1));
    rows.push([c.name, fmt(min), fmt(median)]);
  }
  console.log(table(rows));
  if (blackhole === 0.5) console.log('');
}

await main();
