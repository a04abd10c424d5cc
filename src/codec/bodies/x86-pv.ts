/** x86 PV bodies: X86_PV_INFO, X86_PV_P2M_FRAMES, X86_PV_VCPU_*, SHARED_INFO. */
import type { Static } from '@sinclair/typebox';
import type { PvInfoJson, P2mFramesJson, VcpuJson, OpaqueJson } from '../json-schemas.js';
import { PAGE_SIZE } from '../../format/constants.js';
import { dataView, fromBase64, fromHex, toBase64, toHex, u64FromJson, u64ToJson } from '../bytes.js';
import { EncodeError, formatError } from '../errors.js';
import type { BodyCodec } from './body-codec.js';
import { PackedList, packedBytes, type EntryList } from './entry-list.js';
import type { OpaqueBody } from './simple.js';

// X86_PV_INFO: u8 guest_width, u8 pt_levels, 6 reserved bytes.
export interface PvInfoBody {
  kind: 'pv-info';
  guestWidth: number;
  ptLevels: number;
  /** The 6 reserved bytes (zero in a valid stream). */
  reserved: Uint8Array;
  /** Bytes beyond the 8-byte body (only a lenient reader lets them through). */
  extra?: Uint8Array;
}

export const pvInfoCodec: BodyCodec<PvInfoBody, Static<typeof PvInfoJson>> = {
  layout: 'pv-info',
  decode(bytes, at) {
    if (bytes.length < 8) throw formatError('PV_INFO_LENGTH', at, { expected: 8, actual: bytes.length });
    const b: PvInfoBody = { kind: 'pv-info', guestWidth: bytes[0], ptLevels: bytes[1], reserved: bytes.subarray(2, 8) };
    if (bytes.length > 8) b.extra = bytes.subarray(8);
    return b;
  },
  encodedLength: (b) => 8 + (b.extra?.length ?? 0),
  encode(b) {
    if (b.reserved.length !== 6) throw new EncodeError('X86_PV_INFO: reserved must be 6 bytes');
    const out = new Uint8Array(8);
    out[0] = b.guestWidth;
    out[1] = b.ptLevels;
    out.set(b.reserved, 2);
    return b.extra ? [out, b.extra] : [out];
  },
  toJson: (b) => ({
    kind: 'pv-info',
    guestWidth: b.guestWidth,
    ptLevels: b.ptLevels,
    reserved: toHex(b.reserved),
    ...(b.extra ? { extra: toBase64(b.extra) } : {}),
  }),
  fromJson: (j) => ({
    kind: 'pv-info',
    guestWidth: j.guestWidth,
    ptLevels: j.ptLevels,
    reserved: fromHex(j.reserved),
    ...(j.extra !== undefined ? { extra: fromBase64(j.extra) } : {}),
  }),
};

// X86_PV_P2M_FRAMES: u32 start pfn, u32 end pfn, u64 frames[].
export interface P2mFramesBody {
  kind: 'p2m-frames';
  startPfn: number;
  endPfn: number;
  frames: EntryList<bigint>;
}

/** Frames a P2M of pfns start..end needs for a guest of the given width (spec/FORMAT.md §5.7). */
export function p2mFrameCount(startPfn: number, endPfn: number, guestWidth: number): number {
  const fpp = PAGE_SIZE / guestWidth;
  return Math.floor(endPfn / fpp) + 1 - Math.floor(startPfn / fpp);
}

export const p2mFramesCodec: BodyCodec<P2mFramesBody, Static<typeof P2mFramesJson>> = {
  layout: 'p2m-frames',
  decode(bytes, at) {
    if (bytes.length < 8 || bytes.length % 8 !== 0) {
      throw formatError('P2M_SHORT', at, { expected: '≥ 8 bytes, a multiple of 8', actual: bytes.length });
    }
    const dv = dataView(bytes);
    const startPfn = dv.getUint32(0, true);
    const endPfn = dv.getUint32(4, true);
    if (startPfn > endPfn) throw formatError('P2M_RANGE', at, { expected: `start ≤ end (${endPfn})`, actual: startPfn });
    const frames = new PackedList(bytes.subarray(8), (bytes.length - 8) / 8, (i) => dv.getBigUint64(8 + 8 * i, true));
    return { kind: 'p2m-frames', startPfn, endPfn, frames };
  },
  encodedLength: (b) => 8 + 8 * b.frames.length,
  encode(b) {
    const packed = packedBytes(b.frames);
    if (packed) {
      const head = new Uint8Array(8);
      dataView(head).setUint32(0, b.startPfn, true);
      dataView(head).setUint32(4, b.endPfn, true);
      return [head, packed];
    }
    const out = new Uint8Array(8 + 8 * b.frames.length);
    const dv = dataView(out);
    dv.setUint32(0, b.startPfn, true);
    dv.setUint32(4, b.endPfn, true);
    b.frames.forEach((f, i) => {
      dv.setBigUint64(8 + 8 * i, f, true);
    });
    return [out];
  },
  toJson: (b) => ({ kind: 'p2m-frames', startPfn: b.startPfn, endPfn: b.endPfn, frames: b.frames.map((f) => u64ToJson(f)) }),
  fromJson: (j) => ({ kind: 'p2m-frames', startPfn: j.startPfn, endPfn: j.endPfn, frames: j.frames.map(u64FromJson) }),
};

// X86_PV_VCPU_{BASIC,EXTENDED,XSAVE,MSRS}: u32 vcpu_id, u32 reserved, context blob.
export interface VcpuBody {
  kind: 'vcpu';
  vcpuId: number;
  reserved: number;
  context: Uint8Array;
}

/** sizeof(vcpu_guest_context_x86_64 / _x86_32): the only legal BASIC blob sizes. */
export const VCPU_BASIC_SIZE = { 8: 0x1430, 4: 0xaf0 } as const;

export const vcpuCodec: BodyCodec<VcpuBody, Static<typeof VcpuJson>> = {
  layout: 'vcpu',
  decode(bytes, at) {
    if (bytes.length < 8) throw formatError('VCPU_SHORT', at, { expected: '≥ 8 bytes', actual: bytes.length });
    const dv = dataView(bytes);
    return { kind: 'vcpu', vcpuId: dv.getUint32(0, true), reserved: dv.getUint32(4, true), context: bytes.subarray(8) };
  },
  encodedLength: (b) => 8 + b.context.length,
  encode(b) {
    const head = new Uint8Array(8);
    const dv = dataView(head);
    dv.setUint32(0, b.vcpuId, true);
    dv.setUint32(4, b.reserved, true);
    return [head, b.context];
  },
  toJson: (b) => ({ kind: 'vcpu', vcpuId: b.vcpuId, reserved: b.reserved, context: toBase64(b.context) }),
  fromJson: (j) => ({ kind: 'vcpu', vcpuId: j.vcpuId, reserved: j.reserved, context: fromBase64(j.context) }),
};

// SHARED_INFO: exactly one 4096-byte page.
export const sharedInfoCodec: BodyCodec<OpaqueBody, Static<typeof OpaqueJson>> = {
  layout: 'shared-info',
  decode(bytes, at) {
    if (bytes.length !== PAGE_SIZE) throw formatError('SHARED_INFO_LENGTH', at, { expected: PAGE_SIZE, actual: bytes.length });
    return { kind: 'opaque', data: bytes };
  },
  encodedLength: (b) => b.data.length,
  encode: (b) => [b.data],
  toJson: (b) => ({ kind: 'opaque', data: toBase64(b.data) }),
  fromJson: (j) => ({ kind: 'opaque', data: fromBase64(j.data) }),
};
