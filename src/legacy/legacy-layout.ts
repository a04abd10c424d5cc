/**
 * What a legacy image's first bytes say: its container (xl save file without
 * the STREAMv2 flag, xend save file, or a bare libxc image), where the libxc
 * legacy body starts, and — where the bytes tell — the saving toolstack's
 * width and the guest type. Xen's convert-legacy-stream must be told both
 * (-w, -g); here they are inferred and only asked for when the stream is silent.
 */
import { hasXlMagic } from '../codec/headers.js';
import { XL_BYTEORDER_MARKER, XL_HEADER_SIZE, XL_MANDATORY_FLAG_STREAMV2, XL_MANDATORY_FLAGS_KNOWN } from '../format/constants.js';
import { CHUNK_ID_MIN, EXT_BLOCK_VCPU, LEGACY_MAX_BATCH, XEND_SIGNATURE } from './legacy-format.js';

export type LegacyContainer = 'xl' | 'xend' | 'libxc';
export type ToolstackWidth = 32 | 64;
export type LegacyGuest = 'pv' | 'hvm';

export interface LegacyShape {
  container: LegacyContainer;
  /** Bytes before the libxc legacy body (xl header + optional data, xend signature + config). */
  bodyOffset: number;
  /** Undefined: the bytes seen do not say (too few of them, or ambiguous). */
  width?: ToolstackWidth | undefined;
  guest?: LegacyGuest | undefined;
}

const LEGACY_P2M_SIZE_MAX = 2 ** 28;
/** An HVM guest's pfn space reaches its special pages (ioreq, store, console … at 0xfeff0–0xfefff). */
const HVM_P2M_SIZE_MIN = 0xf0000;

/** Bytes of the libxc body the inference looks at (64-bit PV: p2m size, ~0, u32 length, "vcpu"). */
export const LEGACY_BODY_PROBE = 24;

const latin1 = (u8: Uint8Array, start: number, n: number) =>
  Buffer.from(u8.buffer, u8.byteOffset + start, Math.max(0, Math.min(n, u8.length - start))).toString('latin1');

const u32 = (u8: Uint8Array, at: number) => (at + 4 <= u8.length ? new DataView(u8.buffer, u8.byteOffset, u8.byteLength).getUint32(at, true) : undefined);
const i32 = (u8: Uint8Array, at: number) => (at + 4 <= u8.length ? new DataView(u8.buffer, u8.byteOffset, u8.byteLength).getInt32(at, true) : undefined);

/** A chunk id a body can start with: a page batch or a metadata chunk (never the end: vcpu_info always comes first). */
const plausibleFirstChunk = (id: number | undefined) => id !== undefined && ((id > 0 && id <= LEGACY_MAX_BATCH) || (id < 0 && id >= CHUNK_ID_MIN));

/**
 * Width and guest type from the first bytes of a libxc legacy body.
 * p2m_size is an unsigned long far below 2^32, so a 64-bit toolstack's bytes
 * 4–7 are zero; a 32-bit one's are the next field: ~0 (PV extended info) or
 * the first chunk id (HVM), never 0. PV images start their extended info with
 * the "vcpu" block.
 */
export function inferBody(body: Uint8Array): { width?: ToolstackWidth; guest?: LegacyGuest; plausible: boolean } {
  const p2mLow = u32(body, 0);
  const second = u32(body, 4);
  // Legacy pfn entries keep the pfn in 28 bits, so p2m_size is at most 2^28.
  if (p2mLow === undefined || p2mLow === 0 || p2mLow > LEGACY_P2M_SIZE_MAX || second === undefined) return { plausible: false };
  if (second === 0) {
    if (u32(body, 8) === 0xffffffff && u32(body, 12) === 0xffffffff) {
      return latin1(body, 20, 4) === EXT_BLOCK_VCPU ? { width: 64, guest: 'pv', plausible: true } : { width: 64, plausible: body.length < 24 };
    }
    const first = i32(body, 8);
    return first === undefined ? { width: 64, plausible: true } : { width: 64, guest: 'hvm', plausible: plausibleFirstChunk(first) };
  }
  if (second === 0xffffffff && latin1(body, 12, 4) === EXT_BLOCK_VCPU) return { width: 32, guest: 'pv', plausible: true };
  return plausibleFirstChunk(i32(body, 4)) ? { width: 32, guest: 'hvm', plausible: true } : { plausible: false };
}

/** The xl header's fixed part when it is a legacy one (STREAMv2 clear, only known flags), else undefined. */
function legacyXlBodyOffset(head: Uint8Array): number | undefined {
  if (!hasXlMagic(head) || head.length < XL_HEADER_SIZE) return undefined;
  if (u32(head, 32) !== XL_BYTEORDER_MARKER) return undefined;
  const flags = u32(head, 36) as number;
  if ((flags & XL_MANDATORY_FLAG_STREAMV2) !== 0 || (flags & ~XL_MANDATORY_FLAGS_KNOWN) !== 0) return undefined;
  return XL_HEADER_SIZE + (u32(head, 44) as number);
}

/**
 * The container and body offset of a legacy image, from its first bytes
 * (`head` must reach the body's first LEGACY_BODY_PROBE bytes for width and
 * guest to be inferred; `needed` says how many that is). Undefined: not a legacy image.
 */
export function legacyShape(head: Uint8Array): (LegacyShape & { needed: number }) | undefined {
  let container: LegacyContainer;
  let bodyOffset: number;
  const xl = legacyXlBodyOffset(head);
  if (xl !== undefined) {
    container = 'xl';
    bodyOffset = xl;
  } else if (latin1(head, 0, 16) === XEND_SIGNATURE) {
    const configLength = head.length >= 20 ? new DataView(head.buffer, head.byteOffset, head.byteLength).getInt32(16, false) : 0;
    container = 'xend';
    bodyOffset = 20 + Math.max(0, configLength);
  } else {
    container = 'libxc';
    bodyOffset = 0;
  }
  const needed = bodyOffset + LEGACY_BODY_PROBE;
  const body = head.subarray(Math.min(bodyOffset, head.length));
  const inferred = inferBody(body);
  // A bare libxc image has nothing else to recognise it by: its body must look right. A PV
  // one has its "vcpu" block; an HVM one only small numbers, so its p2m size must also reach
  // the special pages xc_hvm_build puts just below 0xff000 (a back-channel capture, say, would not).
  if (container === 'libxc') {
    if (!inferred.plausible || inferred.guest === undefined) return undefined;
    if (inferred.guest === 'hvm' && (u32(body, 0) as number) < HVM_P2M_SIZE_MIN) return undefined;
  }
  return { container, bodyOffset, width: inferred.width, guest: inferred.guest, needed };
}

/** For the reader's "not a v2 stream" message: what kind of legacy image this is, if it is one. */
export function describeLegacyImage(head: Uint8Array): string | undefined {
  const shape = legacyShape(head);
  if (!shape) return undefined;
  const what = {
    xl: 'an xl save file holding a legacy (pre-Xen-4.6) stream',
    xend: 'a legacy (pre-Xen-4.6) xend save image',
    libxc: 'a legacy (pre-Xen-4.6) libxc image',
  }[shape.container];
  const facts = [shape.guest?.toUpperCase(), shape.width ? `${shape.width}-bit toolstack` : undefined].filter(Boolean).join(', ');
  return `${what}${facts ? ` (${facts})` : ''}; 'stream-inspect dump' explains it and 'stream-inspect convert-legacy' converts it to v2`;
}
