/**
 * A small legacy (pre-Xen-4.6) image WRITER for tests: turns a real v2 stream
 * (fixtures/xen-4.17) into the image Xen 4.5's xc_domain_save (wrapped by xl
 * or xend, or bare) would have written for the same guest, following
 * tools/libxc/xc_domain_save.c of Xen 4.5 and tools/python/xen/migration/legacy.py:
 *
 *   p2m_size (ulong); PV: extended info ("vcpu", "extv", ["xcnt"]) and the p2m
 *   frame list; chunks: tsc_info first (a non-live save sends it before the
 *   pages), the page batches (type << 28 | pfn), vcpu_info, HVM param chunks,
 *   libxl's toolstack chunk (HVM), end; tail: PV unmapped pfns, vCPU contexts
 *   (128-byte extended context, xsave), shared info; HVM magic pfns, HVM
 *   context, QEMU record "DeviceModelRecord0002".
 *
 * What a legacy image cannot carry is dropped: CPUID/MSR policies, PV MSRs,
 * HVM params without a legacy chunk. Two passes over the input (the p2m size
 * and extended info come first but are known only at the end): the first skips
 * page contents.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { XlHeader } from '../../src/codec/headers.js';
import { encodeXlHeader } from '../../src/codec/headers.js';
import { readStream } from '../../src/reader/index.js';
import type { StreamItem } from '../../src/reader/index.js';

export interface LegacyWriterOptions {
  container: 'xl' | 'xend' | 'libxc';
  /** Saving toolstack width (unsigned long size). */
  width: 32 | 64;
}

interface Vcpu {
  id: number;
  basic?: Uint8Array;
  extended?: Uint8Array;
  xsave?: Uint8Array;
}

interface Facts {
  xl?: XlHeader;
  guest: 'pv' | 'hvm';
  guestWidth: number;
  p2mEnd: number;
  frames: bigint[];
  maxPfn: number;
  tsc?: { mode: number; khz: number; nsec: bigint; incarnation: number };
  params: Map<bigint, bigint>;
  hvmContext?: Uint8Array;
  sharedInfo?: Uint8Array;
  vcpus: Map<number, Vcpu>;
  emulator?: Uint8Array;
}

/** Legacy chunk id of each HVM param that has one, in xc_domain_save's order. */
const PARAM_CHUNKS: ReadonlyArray<[chunk: number, param: number]> = [
  [-14, 34],
  [-3, 12],
  [-15, 27],
  [-16, 28],
  [-17, 29],
  [-4, 15],
  [-8, 17],
  [-10, 19],
  [-11, 9],
  [-19, 32],
  [-20, 33],
];

const copy = (u8: Uint8Array) => Uint8Array.from(u8);

async function collect(v2File: string): Promise<Facts> {
  const f: Facts = { guest: 'hvm', guestWidth: 8, p2mEnd: 0, frames: [], maxPfn: 0, params: new Map(), vcpus: new Map() };
  const vcpu = (id: number) => f.vcpus.get(id) ?? (f.vcpus.set(id, { id }).get(id) as Vcpu);
  for await (const item of readStream(v2File, { pageContents: 'skip' })) {
    if (item.kind === 'xl-header') f.xl = item.header;
    if (item.kind === 'libxc-domain-header') f.guest = item.header.domainType === 1 ? 'pv' : 'hvm';
    if (item.kind !== 'record') continue;
    const b = item.record.body;
    const name = item.record.name;
    if (b.kind === 'pv-info') f.guestWidth = b.guestWidth;
    else if (b.kind === 'p2m-frames') {
      f.p2mEnd = b.endPfn;
      f.frames = [...b.frames];
    } else if (b.kind === 'page-data') for (const pfn of b.pfns) f.maxPfn = Math.max(f.maxPfn, pfn);
    else if (b.kind === 'tsc-info') f.tsc = { mode: b.mode, khz: b.khz, nsec: b.nsec, incarnation: b.incarnation };
    else if (b.kind === 'hvm-params') for (const p of b.params) f.params.set(p.index, p.value);
    else if (name === 'HVM_CONTEXT' && b.kind === 'opaque') f.hvmContext = copy(b.data);
    else if (name === 'SHARED_INFO' && 'data' in b) f.sharedInfo = copy(b.data as Uint8Array);
    else if (b.kind === 'vcpu' && name === 'X86_PV_VCPU_BASIC') vcpu(b.vcpuId).basic = copy(b.context);
    else if (b.kind === 'vcpu' && name === 'X86_PV_VCPU_EXTENDED') vcpu(b.vcpuId).extended = copy(b.context);
    else if (b.kind === 'vcpu' && name === 'X86_PV_VCPU_XSAVE') vcpu(b.vcpuId).xsave = copy(b.context);
    else if (b.kind === 'emulator-context') f.emulator = copy(b.blob);
  }
  return f;
}

class Out {
  private readonly fd: number;
  constructor(
    path: string,
    readonly width: 32 | 64,
  ) {
    this.fd = openSync(path, 'w', 0o600);
  }
  bytes(u8: Uint8Array): void {
    writeSync(this.fd, u8);
  }
  private num(size: number, set: (dv: DataView) => void): void {
    const b = new Uint8Array(size);
    set(new DataView(b.buffer));
    this.bytes(b);
  }
  u32(v: number): void {
    this.num(4, (dv) => dv.setUint32(0, v >>> 0, true));
  }
  i32(v: number): void {
    this.num(4, (dv) => dv.setInt32(0, v, true));
  }
  i32be(v: number): void {
    this.num(4, (dv) => dv.setInt32(0, v, false));
  }
  u64(v: bigint): void {
    this.num(8, (dv) => dv.setBigUint64(0, v, true));
  }
  ulongs(values: readonly (bigint | number)[]): void {
    const size = this.width / 8;
    this.num(values.length * size, (dv) => {
      for (let i = 0; i < values.length; i++) {
        if (size === 8) dv.setBigUint64(i * 8, BigInt(values[i]), true);
        else dv.setUint32(i * 4, Number(values[i]), true);
      }
    });
  }
  text(s: string): void {
    this.bytes(new Uint8Array(Buffer.from(s, 'latin1')));
  }
  close(): void {
    closeSync(this.fd);
  }
}

function writeContainer(out: Out, f: Facts, container: LegacyWriterOptions['container']): void {
  if (container === 'xl') {
    if (!f.xl) throw new Error('an xl-wrapped legacy image needs an xl save file as input');
    out.bytes(encodeXlHeader({ ...f.xl, mandatoryFlags: f.xl.mandatoryFlags & ~0x2 }));
  } else if (container === 'xend') {
    const config = `(domain (name legacy-test) (image (${f.guest === 'pv' ? 'linux' : 'hvm'})))`;
    out.text('LinuxGuestRecord');
    out.i32be(config.length);
    out.text(config);
  }
}

function writePvHead(out: Out, f: Facts): void {
  const v0 = f.vcpus.get(0)?.basic;
  if (!v0) throw new Error('PV input without vCPU 0');
  const xsave = f.vcpus.get(0)?.xsave;
  const total = 8 + v0.length + 8 + (xsave ? 12 : 0);
  out.ulongs([out.width === 64 ? 0xffffffffffffffffn : 0xffffffffn]);
  out.u32(total);
  out.text('vcpu');
  out.u32(v0.length);
  out.bytes(v0);
  out.text('extv');
  out.u32(0);
  if (xsave) {
    out.text('xcnt');
    out.u32(4);
    out.u32(xsave.length + 16);
  }
  out.ulongs(f.frames);
}

async function writeBatches(out: Out, v2File: string): Promise<void> {
  for await (const item of readStream(v2File) as AsyncIterable<StreamItem>) {
    if (item.kind !== 'record' || item.record.body.kind !== 'page-data') continue;
    const b = item.record.body;
    out.i32(b.pfns.length);
    out.ulongs(b.pfns.map((pfn, i) => ((b.types[i] << 28) >>> 0) + pfn));
    out.bytes(b.pageData);
  }
}

function writeChunks(out: Out, f: Facts, container: LegacyWriterOptions['container']): void {
  const ids = [...f.vcpus.keys()];
  const maxId = ids.length > 0 ? Math.max(...ids) : 0;
  const map = new Uint8Array(8 * (Math.floor(maxId / 64) + 1));
  for (const id of ids.length > 0 ? ids : [0]) map[id >> 3] |= 1 << (id & 7);
  out.i32(-2);
  out.i32(maxId);
  out.bytes(map);
  if (f.guest === 'hvm') {
    for (const [chunk, param] of PARAM_CHUNKS) {
      const value = f.params.get(BigInt(param));
      if (value === undefined || (param === 19 && value === 0n)) continue;
      out.i32(chunk);
      out.u32(0);
      out.u64(value);
    }
    // libxl's toolstack chunk: version 1, no physmap entries (qemu-xen keeps none).
    if (container !== 'libxc') {
      out.i32(-18);
      out.u32(8);
      out.u32(1);
      out.u32(0);
    }
  }
  out.i32(0);
}

function writeTail(out: Out, f: Facts, container: LegacyWriterOptions['container']): void {
  if (f.guest === 'pv') {
    out.u32(0); // no unmapped pfns
    for (const id of [...f.vcpus.keys()].sort((a, b) => a - b)) {
      const v = f.vcpus.get(id) as Vcpu;
      out.bytes(v.basic as Uint8Array);
      const ext = new Uint8Array(128);
      ext.set(v.extended ?? new Uint8Array(0));
      out.bytes(ext);
      if (v.xsave) {
        out.u64(new DataView(v.xsave.buffer, v.xsave.byteOffset).getBigUint64(0, true));
        out.u64(BigInt(v.xsave.length));
        out.bytes(v.xsave);
      }
    }
    out.bytes(f.sharedInfo as Uint8Array);
    return;
  }
  out.u64(f.params.get(5n) ?? 0n);
  out.u64(f.params.get(6n) ?? 0n);
  out.u64(f.params.get(1n) ?? 0n);
  out.u32((f.hvmContext as Uint8Array).length);
  out.bytes(f.hvmContext as Uint8Array);
  if (f.emulator && container === 'xend') {
    // xend's qemu-dm record: the state runs to the end of the file.
    out.text('QemuDeviceModelRecord');
    out.bytes(f.emulator);
  } else if (f.emulator) {
    out.text('DeviceModelRecord0002');
    out.u32(f.emulator.length);
    out.bytes(f.emulator);
  }
}

/** Write the legacy image of the v2 stream in `v2File` (uncompressed or gzip) to `legacyFile`. */
export async function writeLegacyImage(v2File: string, legacyFile: string, options: LegacyWriterOptions): Promise<void> {
  const f = await collect(v2File);
  const out = new Out(legacyFile, options.width);
  try {
    writeContainer(out, f, options.container);
    out.ulongs([f.guest === 'pv' ? f.p2mEnd + 1 : f.maxPfn + 1]);
    if (f.guest === 'pv') writePvHead(out, f);
    if (!f.tsc) throw new Error('input without X86_TSC_INFO');
    out.i32(-7);
    out.u32(f.tsc.mode);
    out.u64(f.tsc.nsec);
    out.u32(f.tsc.khz);
    out.u32(f.tsc.incarnation);
    await writeBatches(out, v2File);
    writeChunks(out, f, options.container);
    writeTail(out, f, options.container);
  } finally {
    out.close();
  }
}
