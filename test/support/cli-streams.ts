/**
 * Small streams for the CLI tests, built with the codec: a multi-pass PV save
 * (resent pages, a page that goes away), an HVM save with an emulator context,
 * a Remus stream ending in a partial checkpoint, a postcopy RFC stream. Each
 * returns its bytes and the memory its pages imply, for checking extract.
 */
import { concatBytes } from '../../src/codec/bytes.js';
import { encodeLibxcDomainHeader, encodeLibxcImageHeader, encodeLibxlHeader, encodeXlHeader } from '../../src/codec/headers.js';
import { encodeRecord, makeRecord, type RecordBody } from '../../src/codec/records.js';
import type { Dialect, Layer } from '../../src/format/record-types.js';
import { PAGE_TYPE_HAS_DATA } from '../../src/format/page-types.js';

export const PAGE = 4096;
export const XTAB = 0xf;
export const NOTAB = 0x0;
export const L1TAB = 0x1;

/** A page whose bytes say which pfn and version it is. */
export function pageContent(pfn: number, version: number): Uint8Array {
  const p = new Uint8Array(PAGE);
  p.fill((pfn * 31 + version * 7 + 1) & 0xff);
  new DataView(p.buffer).setUint32(0, pfn, true);
  new DataView(p.buffer).setUint32(4, version, true);
  return p;
}

export interface BuiltStream {
  bytes: Uint8Array;
  /** pfn → the page the stream's final state holds (absent: zero). */
  memory: Map<number, Uint8Array>;
  /** Offsets of each record, in order. */
  recordOffsets: number[];
  /** Highest pfn of any entry (image size = (maxPfn + 1) × 4096). */
  maxPfn: number;
}

type Entry = { pfn: number; type: number; version: number };

class Builder {
  private readonly parts: Uint8Array[] = [];
  private length = 0;
  readonly recordOffsets: number[] = [];
  /** Memory state as pages are written; checkpoint snapshots are taken by the caller. */
  memory = new Map<number, Uint8Array>();
  maxPfn = -1;

  constructor(private readonly dialect: Dialect = 'upstream') {}

  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.length += bytes.length;
    return this;
  }

  rec(layer: Layer, name: string, body: RecordBody = { kind: 'empty' }): this {
    this.recordOffsets.push(this.length);
    return this.raw(encodeRecord(makeRecord(layer, name, body, this.dialect), this.dialect));
  }

  pages(entries: Entry[], name = 'PAGE_DATA', apply = true): this {
    const data = entries.filter((e) => PAGE_TYPE_HAS_DATA[e.type]).map((e) => pageContent(e.pfn, e.version));
    for (const e of entries) {
      this.maxPfn = Math.max(this.maxPfn, e.pfn);
      if (!apply) continue;
      if (PAGE_TYPE_HAS_DATA[e.type]) this.memory.set(e.pfn, pageContent(e.pfn, e.version));
      else this.memory.delete(e.pfn);
    }
    return this.rec('libxc', name, {
      kind: 'page-data',
      count: entries.length,
      reserved: 0,
      pfns: entries.map((e) => e.pfn),
      types: entries.map((e) => e.type),
      pageData: concatBytes(data),
    });
  }

  build(): BuiltStream {
    return { bytes: concatBytes(this.parts), memory: new Map(this.memory), recordOffsets: [...this.recordOffsets], maxPfn: this.maxPfn };
  }
}

const CONFIG = '{\n    "c_info": {\n        "type": "pv",\n        "name": "test"\n    }\n}\n';

function xlHeader(config = CONFIG): Uint8Array {
  return encodeXlHeader({
    byteOrder: 'little',
    mandatoryFlags: 3,
    optionalFlags: 0,
    config: new Uint8Array(Buffer.from(`${config}\0`, 'utf8')),
    optionalTail: new Uint8Array(0),
  });
}

function libxcHeaders(b: Builder, domainType: 1 | 2, version = 3): void {
  b.raw(encodeLibxcImageHeader({ version, options: 0, reserved16: 0, reserved32: 0 }));
  b.raw(encodeLibxcDomainHeader({ domainType, pageShift: 12, reserved: 0, xenMajor: 4, xenMinor: 17 }));
}

function pvStatic(b: Builder, endPfn: number): void {
  b.rec('libxc', 'X86_PV_INFO', { kind: 'pv-info', guestWidth: 8, ptLevels: 4, reserved: new Uint8Array(6) });
  b.rec('libxc', 'STATIC_DATA_END');
  b.rec('libxc', 'X86_PV_P2M_FRAMES', { kind: 'p2m-frames', startPfn: 0, endPfn, frames: [0x1234n] });
}

function pvTail(b: Builder): void {
  b.rec('libxc', 'X86_TSC_INFO', { kind: 'tsc-info', mode: 0, khz: 2_000_000, nsec: 0n, incarnation: 0, reserved: 0 });
  b.rec('libxc', 'SHARED_INFO', { kind: 'opaque', data: new Uint8Array(PAGE) });
  b.rec('libxc', 'X86_PV_VCPU_BASIC', { kind: 'vcpu', vcpuId: 0, reserved: 0, context: new Uint8Array(0x1430) });
}

const range = (from: number, n: number, type: number, version: number): Entry[] => Array.from({ length: n }, (_, i) => ({ pfn: from + i, type, version }));

/**
 * xl + libxl + PV libxc, three passes over 64 pfns: pass 1 sends pfns 0–47,
 * pass 2 resends 8–15 (new content) and 40 as L1TAB, pass 3 resends 9, marks
 * 10 XTAB (the page goes away), and sends 60 for the first time.
 */
export function multiPassPv(): BuiltStream {
  const b = new Builder()
    .raw(xlHeader())
    .raw(encodeLibxlHeader({ version: 2, options: 0 }))
    .rec('libxl', 'LIBXC_CONTEXT');
  libxcHeaders(b, 1);
  pvStatic(b, 63);
  b.pages(range(0, 16, NOTAB, 1))
    .pages(range(16, 16, NOTAB, 1))
    .pages(range(32, 16, NOTAB, 1));
  b.pages([...range(8, 8, NOTAB, 2), { pfn: 40, type: L1TAB, version: 2 }]);
  b.pages([
    { pfn: 9, type: NOTAB, version: 3 },
    { pfn: 10, type: XTAB, version: 3 },
    { pfn: 60, type: NOTAB, version: 3 },
  ]);
  pvTail(b);
  return b.rec('libxc', 'END').rec('libxl', 'END').build();
}

/** A plain single-pass PV stream of `pages` pfns (no xl header); its P2M ends at `p2mEndPfn`. */
export function simplePv(pages = 8, version = 1, p2mEndPfn = 63): BuiltStream {
  const b = new Builder().raw(encodeLibxlHeader({ version: 2, options: 0 })).rec('libxl', 'LIBXC_CONTEXT');
  libxcHeaders(b, 1);
  pvStatic(b, p2mEndPfn);
  b.pages(range(0, pages, NOTAB, version));
  pvTail(b);
  return b.rec('libxc', 'END').rec('libxl', 'END').build();
}

/** The 40-byte HVM context of spec/FORMAT.md §11 (HEADER + END). */
const HVM_CONTEXT = Buffer.from('0100000018000000861238540100000000000000000000000000000080841e000000000000000000', 'hex');
export const EMULATOR_BLOB = new Uint8Array(Buffer.from('QEVM\0\0\0\x03emulator state!', 'latin1')); // 23 bytes: body 31, 1 byte of padding

/** xl + HVM save with HVM_CONTEXT, HVM_PARAMS and an EMULATOR_CONTEXT (padded). */
export function hvmWithEmulator(): BuiltStream {
  const b = new Builder()
    .raw(xlHeader('{"c_info":{"type":"hvm","name":"h"}}'))
    .raw(encodeLibxlHeader({ version: 2, options: 0 }))
    .rec('libxl', 'LIBXC_CONTEXT');
  libxcHeaders(b, 2);
  b.rec('libxc', 'STATIC_DATA_END');
  b.pages([...range(0, 4, NOTAB, 1), { pfn: 4, type: XTAB, version: 1 }, { pfn: 0xfeff, type: NOTAB, version: 1 }]);
  b.rec('libxc', 'X86_TSC_INFO', { kind: 'tsc-info', mode: 0, khz: 2_000_000, nsec: 0n, incarnation: 0, reserved: 0 });
  b.rec('libxc', 'HVM_CONTEXT', { kind: 'opaque', data: new Uint8Array(HVM_CONTEXT) });
  b.rec('libxc', 'HVM_PARAMS', {
    kind: 'hvm-params',
    reserved: 0,
    params: [
      { index: 1n, value: 0xfeffcn },
      { index: 17n, value: 0xfefffn },
    ],
  });
  b.rec('libxc', 'END');
  b.rec('libxl', 'EMULATOR_CONTEXT', { kind: 'emulator-context', emulatorId: 2, index: 0, blob: EMULATOR_BLOB });
  return b.rec('libxl', 'END').build();
}

/** A plain HVM stream (libxl container) whose PAGE_DATA records hold `records`' entries (all version 1). */
export function hvmWithPages(records: ReadonlyArray<ReadonlyArray<{ pfn: number; type: number }>>): BuiltStream {
  const b = new Builder().raw(encodeLibxlHeader({ version: 2, options: 0 })).rec('libxl', 'LIBXC_CONTEXT');
  libxcHeaders(b, 2);
  b.rec('libxc', 'STATIC_DATA_END');
  for (const entries of records) b.pages(entries.map((e) => ({ ...e, version: 1 })));
  b.rec('libxc', 'X86_TSC_INFO', { kind: 'tsc-info', mode: 0, khz: 2_000_000, nsec: 0n, incarnation: 0, reserved: 0 });
  b.rec('libxc', 'HVM_CONTEXT', { kind: 'opaque', data: new Uint8Array(HVM_CONTEXT) });
  b.rec('libxc', 'HVM_PARAMS', { kind: 'hvm-params', reserved: 0, params: [{ index: 1n, value: 0xfeffcn }] });
  b.rec('libxc', 'END');
  return b.rec('libxl', 'END').build();
}

/**
 * A Remus stream (libxl container): checkpoint 1 sends pfns 0–15, checkpoint 2
 * resends 0–3 and sends 20; then a third checkpoint starts (resends 1, sends
 * 30) and the stream ends: failover to checkpoint 2.
 */
export function remusWithPartialCheckpoint(): BuiltStream & { memoryAtCheckpoint2: Map<number, Uint8Array>; maxPfnAtCheckpoint2: number } {
  const b = new Builder().raw(encodeLibxlHeader({ version: 2, options: 0 })).rec('libxl', 'LIBXC_CONTEXT');
  libxcHeaders(b, 1);
  pvStatic(b, 63);
  const endOfCheckpoint = () => {
    pvTail(b);
    b.rec('libxc', 'CHECKPOINT').rec('libxl', 'CHECKPOINT_END');
  };
  b.pages(range(0, 16, NOTAB, 1));
  endOfCheckpoint();
  b.pages([...range(0, 4, NOTAB, 2), { pfn: 20, type: NOTAB, version: 2 }]);
  endOfCheckpoint();
  const memoryAtCheckpoint2 = new Map(b.memory);
  b.pages([
    { pfn: 1, type: NOTAB, version: 3 },
    { pfn: 30, type: NOTAB, version: 3 },
  ]);
  const built = b.build();
  // P2M end pfn 63 sizes the image in both states.
  return { ...built, memoryAtCheckpoint2, maxPfnAtCheckpoint2: 63 };
}

/** Postcopy RFC (HVM, image v2): precopy pfns 0–3, then pfns 4–5 listed and sent as POSTCOPY_PAGE_DATA. */
export function postcopyRfc(): BuiltStream {
  const b = new Builder('postcopy-rfc').raw(encodeLibxlHeader({ version: 2, options: 0 })).rec('libxl', 'LIBXC_CONTEXT');
  libxcHeaders(b, 2, 2);
  b.pages(range(0, 4, NOTAB, 1));
  b.rec('libxc', 'POSTCOPY_BEGIN');
  b.rec('libxc', 'X86_TSC_INFO', { kind: 'tsc-info', mode: 0, khz: 2_000_000, nsec: 0n, incarnation: 0, reserved: 0 });
  b.rec('libxc', 'HVM_CONTEXT', { kind: 'opaque', data: new Uint8Array(HVM_CONTEXT) });
  b.rec('libxc', 'POSTCOPY_PFNS_BEGIN');
  b.rec('libxc', 'POSTCOPY_PFNS', { kind: 'pfn-list', count: 2, reserved: 0, pfns: [4, 5], types: [NOTAB, NOTAB] });
  b.rec('libxc', 'POSTCOPY_TRANSITION');
  b.rec('libxl', 'POSTCOPY_TRANSITION_END');
  b.pages(range(4, 2, NOTAB, 1), 'POSTCOPY_PAGE_DATA');
  return b.rec('libxc', 'END').rec('libxl', 'END').build();
}

/** The image extract should write: every page at pfn × 4096, zeros elsewhere. */
export function expectedImage(memory: Map<number, Uint8Array>, maxPfn: number): Uint8Array {
  const img = new Uint8Array((maxPfn + 1) * PAGE);
  for (const [pfn, page] of memory) img.set(page, pfn * PAGE);
  return img;
}
