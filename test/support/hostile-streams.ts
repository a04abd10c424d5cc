/**
 * Valid streams that are hostile to memory (issue 17 items 9 and 10): many
 * pfns spread thinly over a huge span, and records holding millions of tiny
 * list entries. Sizes are parameters, so tests stay small and the issue's
 * sizes can be rebuilt for measurements.
 */
import {
  concat,
  emulatorContext,
  hvmContext,
  hvmParams,
  imageHeader,
  libxlHeader,
  domainHeader,
  pageData,
  rawRecord,
  rec,
  tscInfo,
  xlHeader,
  xenstoreData,
  type Part,
} from './build.js';

const XTAB = 0xf;

/** A plain HVM xl stream whose pages are `count` XTAB entries at pfn k × stride, 1024 per PAGE_DATA. */
export function xtabSpread(count: number, stride = 512): Uint8Array {
  const records: Part[] = [];
  for (let k = 0; k < count; k += 1024) {
    const pfns = Array.from({ length: Math.min(1024, count - k) }, (_, i) => (k + i) * stride);
    records.push(
      pageData(
        pfns,
        0,
        pfns.map(() => XTAB),
      ),
    );
  }
  return hvmStream({ pages: records, libxl: [xenstoreData()] });
}

export interface HvmParts {
  /** Static data records (before STATIC_DATA_END), e.g. an MSR policy. */
  staticData?: Part[];
  pages?: Part[];
  /** Replaces the small HVM_PARAMS. */
  params?: Part;
  /** libxl records before EMULATOR_CONTEXT and END. */
  libxl?: Part[];
}

/** A plain HVM xl stream made of the given parts around the usual small records. */
export function hvmStream(p: HvmParts): Uint8Array {
  return concat([
    xlHeader(),
    libxlHeader(),
    rec('libxl', 'LIBXC_CONTEXT'),
    imageHeader(),
    domainHeader(2),
    ...(p.staticData ?? []),
    rec('libxc', 'STATIC_DATA_END'),
    ...(p.pages ?? []),
    tscInfo(),
    hvmContext(),
    p.params ?? hvmParams(),
    rec('libxc', 'END'),
    ...(p.libxl ?? []),
    emulatorContext(),
    rec('libxl', 'END'),
  ]);
}

/** EMULATOR_XENSTORE_DATA of about `bytes` bytes of 1-character keys and values ("a\0b\0"). */
export function tinyXenstorePairs(bytes: number): Part {
  const n = Math.floor(bytes / 4);
  const body = new Uint8Array(8 + 4 * n);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, 2, true); // QEMU upstream
  for (let i = 0; i < n; i++) {
    body[8 + 4 * i] = 0x61 + (i % 26);
    body[10 + 4 * i] = 0x30 + (i % 10);
  }
  return rawRecord(0x2, body); // libxl EMULATOR_XENSTORE_DATA
}

/** X86_MSR_POLICY with `bytes / 16` entries. */
export function manyMsrs(bytes: number): Part {
  const n = Math.floor(bytes / 16);
  const body = new Uint8Array(16 * n);
  const dv = new DataView(body.buffer);
  for (let i = 0; i < n; i++) {
    dv.setUint32(16 * i, 0xc0000000 + i, true);
    dv.setBigUint64(16 * i + 8, BigInt(i), true);
  }
  return rawRecord(0x12, body); // libxc X86_MSR_POLICY
}

/** HVM_PARAMS with `bytes / 16` (index, value) pairs. */
export function manyHvmParams(bytes: number): Part {
  const n = Math.floor((bytes - 8) / 16);
  const body = new Uint8Array(8 + 16 * n);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, n, true);
  for (let i = 0; i < n; i++) {
    dv.setBigUint64(8 + 16 * i, BigInt(i % 64), true);
    dv.setBigUint64(16 + 16 * i, BigInt(i), true);
  }
  return rawRecord(0x0a, body); // libxc HVM_PARAMS
}
