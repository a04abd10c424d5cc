/** x86 PV bodies: X86_PV_INFO, X86_PV_P2M_FRAMES, X86_PV_VCPU_*, SHARED_INFO. */
import type { Static } from '@sinclair/typebox';
import type { VcpuJson, OpaqueJson } from '../json-schemas.js';
import { PAGE_SIZE } from '../../format/constants.js';
import type { LayoutJson, LayoutValue } from '../../format/layout.js';
import { X86_PV_INFO, X86_PV_P2M_FRAMES_HEAD } from '../../format/layouts/x86-pv-info.js';
import { U64_ENTRY } from '../../format/layouts/u64-list.js';
import { dataView, fromBase64, toBase64, u64FromJson, u64ToJson } from '../bytes.js';
import { formatError } from '../errors.js';
import { layoutCodec } from '../layout-codec.js';
import type { BodyCodec } from './body-codec.js';
import { fixedBodyWithExtraCodec, type FixedBodyWithExtra, type FixedBodyWithExtraJson } from './fixed-body.js';
import { encodeU64List, u64List, type EntryList } from './entry-list.js';
import type { OpaqueBody } from './simple.js';

// X86_PV_INFO: its fields are in src/format/layouts/x86-pv-info.ts; bytes beyond its 8 are kept as `extra`
// (only a lenient reader lets them through).
export type PvInfoBody = FixedBodyWithExtra<'pv-info', typeof X86_PV_INFO>;
export type PvInfoJsonForm = FixedBodyWithExtraJson<'pv-info', typeof X86_PV_INFO>;

export const pvInfoCodec = fixedBodyWithExtraCodec('pv-info', X86_PV_INFO, 'PV_INFO_LENGTH');

// X86_PV_P2M_FRAMES: the head in src/format/layouts/x86-pv-info.ts, then u64 frames[].
export interface P2mFramesBody extends LayoutValue<typeof X86_PV_P2M_FRAMES_HEAD> {
  kind: 'p2m-frames';
  frames: EntryList<bigint>;
}

/** Frames a P2M of pfns start..end needs for a guest of the given width (spec/FORMAT.md §5.7). */
export function p2mFrameCount(startPfn: number, endPfn: number, guestWidth: number): number {
  const fpp = PAGE_SIZE / guestWidth;
  return Math.floor(endPfn / fpp) + 1 - Math.floor(startPfn / fpp);
}

export type P2mFramesJsonForm = { kind: 'p2m-frames'; frames: string[] } & LayoutJson<typeof X86_PV_P2M_FRAMES_HEAD>;

const p2mHead = layoutCodec(X86_PV_P2M_FRAMES_HEAD);

export const p2mFramesCodec: BodyCodec<P2mFramesBody, P2mFramesJsonForm> = {
  layout: 'p2m-frames',
  table: X86_PV_P2M_FRAMES_HEAD,
  decode(bytes, at) {
    const head = p2mHead.size;
    if (bytes.length < head || (bytes.length - head) % U64_ENTRY.size !== 0) {
      throw formatError('P2M_SHORT', at, { expected: `≥ ${head} bytes, a multiple of 8`, actual: bytes.length });
    }
    const { startPfn, endPfn } = p2mHead.decode(bytes);
    if (startPfn > endPfn) throw formatError('P2M_RANGE', at, { expected: `start ≤ end (${endPfn})`, actual: startPfn });
    return { kind: 'p2m-frames', startPfn, endPfn, frames: u64List(bytes.subarray(head)) };
  },
  encodedLength: (b) => p2mHead.size + U64_ENTRY.size * b.frames.length,
  encode: (b) => [p2mHead.encode(b), encodeU64List(b.frames)],
  toJson: (b) => ({ kind: 'p2m-frames', ...p2mHead.toJson(b), frames: b.frames.map((f) => u64ToJson(f)) }),
  fromJson: (j) => ({ kind: 'p2m-frames', ...p2mHead.fromJson(j), frames: j.frames.map(u64FromJson) }),
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
