/**
 * Hand-built streams for tests, from codec values: small, exact, and easy to
 * corrupt at a known offset. (The writer is tested separately; these builders
 * deliberately bypass its guards so tests can make invalid streams.)
 */
import { encodeLibxcDomainHeader, encodeLibxcImageHeader, encodeLibxlHeader, encodeRecord, encodeXlHeader, type RecordBody } from '../../src/codec/index.js';
import { recordTypeTable, type Dialect, type Layer } from '../../src/format/index.js';

export type Part = Uint8Array;

export function rec(layer: Layer, name: string, body: RecordBody = { kind: 'empty' }, dialect: Dialect = 'upstream'): Part {
  const info = recordTypeTable(layer, dialect).byName(name);
  if (!info) throw new Error(`no ${layer} ${name} in ${dialect}`);
  return encodeRecord({ layer, type: info.type, name, body }, dialect);
}

/** A record with an arbitrary type number and raw body (for unknown / malformed records). */
export function rawRecord(type: number, body: Uint8Array, padding?: Uint8Array): Part {
  const pad = (8 - (body.length % 8)) % 8;
  const out = new Uint8Array(8 + body.length + pad);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, body.length, true);
  out.set(body, 8);
  if (padding) out.set(padding.subarray(0, pad), 8 + body.length);
  return out;
}

export const xlHeader = (config = '{}\0', flags = 3): Part =>
  encodeXlHeader({
    byteOrder: 'little',
    mandatoryFlags: flags,
    optionalFlags: 0,
    config: new Uint8Array(Buffer.from(config, 'latin1')),
    optionalTail: new Uint8Array(0),
  });
export const libxlHeader = (options = 0): Part => encodeLibxlHeader({ version: 2, options });
export const imageHeader = (version = 3): Part => encodeLibxcImageHeader({ version, options: 0, reserved16: 0, reserved32: 0 });
export const domainHeader = (domainType: 1 | 2): Part => encodeLibxcDomainHeader({ domainType, pageShift: 12, reserved: 0, xenMajor: 4, xenMinor: 17 });

export function concat(parts: Part[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** A page whose bytes say which pfn and version it is. */
export function page(pfn: number, version = 0): Uint8Array {
  const p = new Uint8Array(4096);
  const dv = new DataView(p.buffer);
  dv.setUint32(0, pfn, true);
  dv.setUint32(4, version, true);
  for (let i = 8; i < 4096; i++) p[i] = (pfn * 31 + version * 7 + i) & 0xff;
  return p;
}

/** PAGE_DATA for the given pfns (types default NOTAB), pages from page(pfn, version). */
export function pageData(pfns: number[], version = 0, types?: number[], name = 'PAGE_DATA', dialect: Dialect = 'upstream'): Part {
  const t = types ?? pfns.map(() => 0);
  const dataPfns = pfns.filter((_, i) => ![0xd, 0xe, 0xf].includes(t[i]));
  const data = new Uint8Array(4096 * dataPfns.length);
  dataPfns.forEach((p, k) => {
    data.set(page(p, version), 4096 * k);
  });
  return rec('libxc', name, { kind: 'page-data', count: pfns.length, reserved: 0, pfns, types: t, pageData: data }, dialect);
}

export const tscInfo = (): Part => rec('libxc', 'X86_TSC_INFO', { kind: 'tsc-info', mode: 0, khz: 2_000_000, nsec: 0n, incarnation: 0, reserved: 0 });

/** A 40-byte HVM save blob: HEADER entry + END entry (spec/FORMAT.md §11). */
export function hvmContextBlob(): Uint8Array {
  return new Uint8Array(Buffer.from('0100000018000000861238540100000000000000000000000000000080841e000000000000000000', 'hex'));
}
export const hvmContext = (): Part => rec('libxc', 'HVM_CONTEXT', { kind: 'opaque', data: hvmContextBlob() });
export const hvmParams = (): Part => rec('libxc', 'HVM_PARAMS', { kind: 'hvm-params', reserved: 0, params: [{ index: 1n, value: 0xfeffcn }] });
export const emulatorContext = (): Part =>
  rec('libxl', 'EMULATOR_CONTEXT', { kind: 'emulator-context', emulatorId: 2, index: 0, blob: new Uint8Array(Buffer.from('QEVM')) });
export const xenstoreData = (pairs: Array<[string, string]> = [['physmap/f0000000/start_addr', 'f0000000']]): Part =>
  rec('libxl', 'EMULATOR_XENSTORE_DATA', { kind: 'emulator-xenstore', emulatorId: 2, index: 0, pairs });

export const pvInfo = (): Part => rec('libxc', 'X86_PV_INFO', { kind: 'pv-info', guestWidth: 8, ptLevels: 4, reserved: new Uint8Array(6) });
export const p2mFrames = (endPfn: number): Part =>
  rec('libxc', 'X86_PV_P2M_FRAMES', {
    kind: 'p2m-frames',
    startPfn: 0,
    endPfn,
    frames: Array.from({ length: Math.floor(endPfn / 512) + 1 }, (_, i) => BigInt(0x1000 + i)),
  });
export const vcpuBasic = (id = 0): Part => rec('libxc', 'X86_PV_VCPU_BASIC', { kind: 'vcpu', vcpuId: id, reserved: 0, context: new Uint8Array(0x1430) });
export const sharedInfo = (): Part => rec('libxc', 'SHARED_INFO', { kind: 'opaque', data: new Uint8Array(4096) });

/** libxc records of a small plain HVM image: SDE, pages, TSC, context, params, END. */
export function hvmLibxc(pfnPasses: number[][] = [[0, 1, 2, 3]]): Part[] {
  return [
    imageHeader(),
    domainHeader(2),
    rec('libxc', 'STATIC_DATA_END'),
    ...pfnPasses.map((p, v) => pageData(p, v)),
    tscInfo(),
    hvmContext(),
    hvmParams(),
    rec('libxc', 'END'),
  ];
}

/** A plain HVM xl save file. */
export function plainHvm(pfnPasses?: number[][]): Uint8Array {
  return concat([xlHeader(), libxlHeader(), rec('libxl', 'LIBXC_CONTEXT'), ...hvmLibxc(pfnPasses), xenstoreData(), emulatorContext(), rec('libxl', 'END')]);
}

/** A plain PV libxl stream (no xl header). */
export function plainPv(pfnPasses: number[][] = [[0, 1, 2, 3]]): Uint8Array {
  return concat([
    libxlHeader(),
    rec('libxl', 'LIBXC_CONTEXT'),
    imageHeader(),
    domainHeader(1),
    pvInfo(),
    rec('libxc', 'STATIC_DATA_END'),
    p2mFrames(1023),
    ...pfnPasses.map((p, v) => pageData(p, v)),
    tscInfo(),
    sharedInfo(),
    vcpuBasic(0),
    rec('libxc', 'END'),
    rec('libxl', 'END'),
  ]);
}

/** A Remus (or COLO) checkpointed HVM stream with `n` complete checkpoints and no END. */
export function checkpointed(n: number, colo = false): Uint8Array {
  const parts: Part[] = [xlHeader(), libxlHeader(), rec('libxl', 'LIBXC_CONTEXT'), imageHeader(), domainHeader(2), rec('libxc', 'STATIC_DATA_END')];
  for (let c = 0; c < n; c++) {
    parts.push(
      pageData(c === 0 ? [0, 1, 2, 3] : [c % 4], c),
      tscInfo(),
      hvmContext(),
      hvmParams(),
      rec('libxc', 'CHECKPOINT'),
      emulatorContext(),
      rec('libxl', 'CHECKPOINT_END'),
    );
    if (colo) parts.push(rec('libxl', 'CHECKPOINT_STATE', { kind: 'checkpoint-state', controlId: 0 }));
  }
  return concat(parts);
}

/** A postcopy-RFC HVM stream (v2 image). */
export function postcopy(): Uint8Array {
  const d: Dialect = 'postcopy-rfc';
  return concat([
    xlHeader(),
    libxlHeader(),
    rec('libxl', 'LIBXC_CONTEXT'),
    imageHeader(2),
    domainHeader(2),
    pageData([0, 1], 0),
    rec('libxc', 'POSTCOPY_BEGIN', undefined, d),
    tscInfo(),
    hvmContext(),
    hvmParams(),
    rec('libxc', 'POSTCOPY_PFNS_BEGIN', undefined, d),
    rec('libxc', 'POSTCOPY_PFNS', { kind: 'pfn-list', count: 2, reserved: 0, pfns: [2, 3], types: [0, 0] }, d),
    rec('libxc', 'POSTCOPY_TRANSITION', undefined, d),
    emulatorContext(),
    rec('libxl', 'POSTCOPY_TRANSITION_END', undefined, d),
    pageData([3], 1, undefined, 'POSTCOPY_PAGE_DATA', d),
    pageData([2], 1, undefined, 'POSTCOPY_PAGE_DATA', d),
    rec('libxc', 'END', undefined, d),
    rec('libxl', 'END', undefined, d),
  ]);
}

/** The 247-byte worked example of spec/FORMAT.md §11. */
export const MINIMAL_XL_HEX =
  '58656e20736176656420646f6d61696e2c20786c20666f726d61740a2000200d' +
  '04030201030000000000000007000000030000007b7d004c6962786c466d7400' +
  '000002000000000100000000000000ffffffffffffffff58454e460000000300' +
  '00000000000000020000000c0000000400000013000000100000000000000008' +
  '000000180000000000000080841e000000000000000000000000000000000009' +
  '0000002800000001000000180000008612385401000000000000000000000000' +
  '00000080841e0000000000000000000000000000000000030000000c00000002' +
  '000000000000005145564d000000000000000000000000';
export const minimalXl = (): Uint8Array => new Uint8Array(Buffer.from(MINIMAL_XL_HEX, 'hex'));

/** An HVM save blob from entries [typecode, instance, data or length]; HEADER first and END last unless given. */
export function hvmBlob(entries: Array<[number, number, Uint8Array | number]>, opts: { header?: boolean; end?: boolean } = {}): Uint8Array {
  const all: Array<[number, number, Uint8Array]> = entries.map(([t, i, d]) => [t, i, typeof d === 'number' ? new Uint8Array(d) : d]);
  if (opts.header !== false) all.unshift([1, 0, hvmContextBlob().subarray(8, 32)]);
  if (opts.end !== false) all.push([0, 0, new Uint8Array(0)]);
  const out = new Uint8Array(all.reduce((n, [, , d]) => n + 8 + d.length, 0));
  const dv = new DataView(out.buffer);
  let off = 0;
  for (const [t, i, d] of all) {
    dv.setUint16(off, t, true);
    dv.setUint16(off + 2, i, true);
    dv.setUint32(off + 4, d.length, true);
    out.set(d, off + 8);
    off += 8 + d.length;
  }
  return out;
}
