/**
 * The fixed headers: xl save-file header (+ optional data), libxl stream header,
 * libxc image and domain headers. Their fields are the layout tables of
 * src/format/layouts/stream-headers.ts; this file checks lengths first, then
 * magic values and versions, and maps the table's values to the header types.
 */
import {
  LIBXC_DOMAIN_HEADER_SIZE,
  LIBXC_ID,
  LIBXC_IMAGE_HEADER_SIZE,
  LIBXC_VERSION_MAX,
  LIBXC_VERSION_MIN,
  LIBXL_HEADER_SIZE,
  LIBXL_IDENT_BYTES,
  LIBXL_VERSION,
  PAGE_SHIFT,
  XL_BYTEORDER_MARKER,
  XL_HEADER_SIZE,
  XL_MAGIC,
  XL_MANDATORY_FLAGS_KNOWN,
  XL_MANDATORY_FLAG_STREAMV2,
  XL_OPTIONAL_DATA_MAX,
  DOMAIN_TYPE_X86_HVM,
  DOMAIN_TYPE_X86_PV,
} from '../format/constants.js';
import { LIBXC_DOMAIN_HEADER, LIBXC_IMAGE_HEADER, LIBXL_HEADER, XL_HEADER } from '../format/layouts/stream-headers.js';
import { bytesEqual, dataView } from './bytes.js';
import { formatError, type ErrorLocation } from './errors.js';
import { layoutCodec } from './layout-codec.js';

const xlLE = layoutCodec(XL_HEADER, 'little');
const xlBE = layoutCodec(XL_HEADER, 'big');
const libxlCodec = layoutCodec(LIBXL_HEADER);
const imageCodec = layoutCodec(LIBXC_IMAGE_HEADER);
const domainCodec = layoutCodec(LIBXC_DOMAIN_HEADER);
const MARKER_ALL_ONES = 0xffff_ffff_ffff_ffffn;

// ---------------------------------------------------------------- xl header

export type ByteOrder = 'little' | 'big';

export interface XlHeader {
  /** Order of the saving host (x86: little). */
  byteOrder: ByteOrder;
  mandatoryFlags: number;
  optionalFlags: number;
  /** The config text including its terminating NUL, when the optional data has a config_len field. */
  config?: Uint8Array | undefined;
  /** Optional data after the config that readers ignore (kept for exact re-encoding). */
  optionalTail: Uint8Array;
}

type XlFixed = ReturnType<typeof xlLE.decode>;

/** Whether the bytes start with the xl magic (needs ≥ 32 bytes to say yes). */
export function hasXlMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 32 && bytesEqual(bytes.subarray(0, 32), XL_MAGIC);
}

/**
 * Check the 48 fixed bytes and return the header's whole length
 * (48 + optional_data_len), so a reader knows how much to fetch; an
 * optional_data_len above `maxOptionalData` is refused before anything is fetched.
 */
export function xlHeaderLength(bytes: Uint8Array, at: ErrorLocation = { offset: 0 }, maxOptionalData = XL_OPTIONAL_DATA_MAX): number {
  const claimed = decodeXlFixed(bytes, at).fixed.optionalDataLength;
  if (claimed > maxOptionalData) {
    throw formatError(
      'XL_OPTIONAL_DATA_TOO_LONG',
      { ...at, layer: 'xl', recordName: 'xl header' },
      { relative: XL_HEADER.fields[4].offset, expected: `≤ ${maxOptionalData}`, actual: claimed },
    );
  }
  return XL_HEADER_SIZE + claimed;
}

function decodeXlFixed(bytes: Uint8Array, at: ErrorLocation): { fixed: XlFixed; byteOrder: ByteOrder } {
  const loc = { ...at, layer: 'xl' as const, recordName: 'xl header' };
  if (bytes.length < XL_HEADER_SIZE) throw formatError('TRUNCATED', loc, { expected: `${XL_HEADER_SIZE} header bytes`, actual: bytes.length });
  if (!hasXlMagic(bytes)) throw formatError('XL_MAGIC', loc);
  let fixed = xlLE.decode(bytes);
  let byteOrder: ByteOrder = 'little';
  if (fixed.byteorder !== XL_BYTEORDER_MARKER) {
    const be = xlBE.decode(bytes);
    if (be.byteorder !== XL_BYTEORDER_MARKER) {
      throw formatError('XL_BYTEORDER', loc, { relative: 32, expected: '0x01020304', actual: `0x${fixed.byteorder.toString(16)}` });
    }
    fixed = be;
    byteOrder = 'big';
  }
  if ((fixed.mandatoryFlags & ~XL_MANDATORY_FLAGS_KNOWN) !== 0) {
    const unknown = fixed.mandatoryFlags & ~XL_MANDATORY_FLAGS_KNOWN;
    throw formatError('XL_MANDATORY_FLAGS', loc, {
      relative: 36,
      expected: 'only bits 0x3',
      actual: `0x${fixed.mandatoryFlags.toString(16)}`,
      // xl itself refuses such a file ("unable to restore: unknown mandatory flags"): it needs a newer xl.
      detail: `an xl save file with mandatory flags 0x${unknown.toString(16)} this toolkit (and xl before them) does not know: written by a newer xl; restore it with that Xen version's xl`,
    });
  }
  return { fixed, byteOrder };
}

/**
 * Decode a whole xl header: `bytes` must hold 48 + optional_data_len bytes (more is ignored).
 * `legacy`: accept a header without the STREAMv2 flag (the legacy converter reads those).
 */
export function decodeXlHeader(bytes: Uint8Array, at: ErrorLocation = { offset: 0 }, options: { legacy?: boolean } = {}): { header: XlHeader; length: number } {
  const { fixed, byteOrder } = decodeXlFixed(bytes, at);
  const loc = { ...at, layer: 'xl' as const, recordName: 'xl header' };
  const length = XL_HEADER_SIZE + fixed.optionalDataLength;
  if (bytes.length < length)
    throw formatError('TRUNCATED', loc, {
      relative: bytes.length,
      expected: `${fixed.optionalDataLength} bytes of optional data`,
      actual: bytes.length - XL_HEADER_SIZE,
    });
  const opt = bytes.subarray(XL_HEADER_SIZE, length);
  let config: Uint8Array | undefined;
  let optionalTail = opt;
  if (opt.length >= 4) {
    const configLength = dataView(opt).getUint32(0, byteOrder === 'little');
    if (configLength > opt.length - 4) {
      throw formatError('XL_CONFIG_TRUNCATED', loc, { relative: XL_HEADER_SIZE, expected: `config_len ≤ ${opt.length - 4}`, actual: configLength });
    }
    config = opt.subarray(4, 4 + configLength);
    optionalTail = opt.subarray(4 + configLength);
  }
  if ((fixed.mandatoryFlags & XL_MANDATORY_FLAG_STREAMV2) === 0 && options.legacy !== true) {
    throw formatError('XL_LEGACY', { ...loc, offset: at.offset + 36 }, { expected: 'STREAMv2 flag (0x2)', actual: `0x${fixed.mandatoryFlags.toString(16)}` });
  }
  return {
    header: { byteOrder, mandatoryFlags: fixed.mandatoryFlags, optionalFlags: fixed.optionalFlags, config, optionalTail },
    length,
  };
}

export function xlHeaderEncodedLength(h: XlHeader): number {
  return XL_HEADER_SIZE + (h.config ? 4 + h.config.length : 0) + h.optionalTail.length;
}

export function encodeXlHeader(h: XlHeader): Uint8Array {
  const out = new Uint8Array(xlHeaderEncodedLength(h));
  const le = h.byteOrder === 'little';
  (le ? xlLE : xlBE).encodeInto(
    {
      magic: XL_MAGIC,
      byteorder: XL_BYTEORDER_MARKER,
      mandatoryFlags: h.mandatoryFlags,
      optionalFlags: h.optionalFlags,
      optionalDataLength: out.length - XL_HEADER_SIZE,
    },
    out,
  );
  const dv = dataView(out);
  let pos = XL_HEADER_SIZE;
  if (h.config) {
    dv.setUint32(pos, h.config.length, le);
    out.set(h.config, pos + 4);
    pos += 4 + h.config.length;
  }
  out.set(h.optionalTail, pos);
  return out;
}

/** The config text without its terminating NUL (xl writes strlen + 1 bytes). */
export function xlConfigText(h: XlHeader): string | undefined {
  if (!h.config) return undefined;
  const end = h.config.length > 0 && h.config[h.config.length - 1] === 0 ? h.config.length - 1 : h.config.length;
  return Buffer.from(h.config.buffer, h.config.byteOffset, end).toString('utf8');
}

// ------------------------------------------------------------- libxl header

export interface LibxlHeader {
  version: number;
  /** bit 0 big-endian, bit 1 legacy (converted), bits 2–31 reserved. */
  options: number;
}

export function hasLibxlIdent(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytesEqual(bytes.subarray(0, 8), LIBXL_IDENT_BYTES);
}

export function decodeLibxlHeader(bytes: Uint8Array, at: ErrorLocation = { offset: 0 }): LibxlHeader {
  const loc = { ...at, layer: 'libxl' as const, recordName: 'libxl header' };
  if (bytes.length < LIBXL_HEADER_SIZE)
    throw formatError('TRUNCATED', loc, { relative: bytes.length, expected: `${LIBXL_HEADER_SIZE} header bytes`, actual: bytes.length });
  if (!hasLibxlIdent(bytes)) {
    throw formatError('LIBXL_IDENT', loc, { expected: '0x4c6962786c466d74 ("LibxlFmt")', actual: `0x${Buffer.from(bytes.subarray(0, 8)).toString('hex')}` });
  }
  const h = libxlCodec.decode(bytes);
  if (h.version !== LIBXL_VERSION) throw formatError('LIBXL_VERSION', loc, { relative: 8, expected: LIBXL_VERSION, actual: h.version });
  return { version: h.version, options: h.options };
}

export function encodeLibxlHeader(h: LibxlHeader): Uint8Array {
  return libxlCodec.encode({ ident: LIBXL_IDENT_BYTES, version: h.version, options: h.options });
}

// -------------------------------------------------------- libxc image header

export interface LibxcImageHeader {
  version: number;
  /** bit 0 big-endian, bits 1–15 reserved. */
  options: number;
  reserved16: number;
  reserved32: number;
}

export function hasLibxcMarker(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  for (let i = 0; i < 8; i++) if (bytes[i] !== 0xff) return false;
  return bytes[8] === 0x58 && bytes[9] === 0x45 && bytes[10] === 0x4e && bytes[11] === 0x46;
}

export function decodeLibxcImageHeader(bytes: Uint8Array, at: ErrorLocation = { offset: 0 }): LibxcImageHeader {
  const loc = { ...at, layer: 'libxc' as const, recordName: 'libxc image header' };
  if (bytes.length < LIBXC_IMAGE_HEADER_SIZE)
    throw formatError('TRUNCATED', loc, { relative: bytes.length, expected: `${LIBXC_IMAGE_HEADER_SIZE} header bytes`, actual: bytes.length });
  const h = imageCodec.decode(bytes);
  if (h.marker !== MARKER_ALL_ONES) {
    throw formatError('LIBXC_MARKER', loc, { expected: '0xffffffffffffffff', actual: `0x${Buffer.from(bytes.subarray(0, 8)).toString('hex')}` });
  }
  if (h.id !== LIBXC_ID) throw formatError('LIBXC_ID', loc, { relative: 8, expected: '0x58454e46 ("XENF")', actual: `0x${h.id.toString(16)}` });
  if (h.version < LIBXC_VERSION_MIN || h.version > LIBXC_VERSION_MAX) {
    throw formatError('LIBXC_VERSION', loc, { relative: 12, expected: '2 or 3', actual: h.version });
  }
  return { version: h.version, options: h.options, reserved16: h.reserved16, reserved32: h.reserved32 };
}

export function encodeLibxcImageHeader(h: LibxcImageHeader): Uint8Array {
  return imageCodec.encode({
    marker: MARKER_ALL_ONES,
    id: LIBXC_ID,
    version: h.version,
    options: h.options,
    reserved16: h.reserved16,
    reserved32: h.reserved32,
  });
}

// ------------------------------------------------------- libxc domain header

export interface LibxcDomainHeader {
  /** 1 x86 PV, 2 x86 HVM (also PVH). */
  domainType: number;
  pageShift: number;
  reserved: number;
  /** 0 = stream made by the legacy converter. */
  xenMajor: number;
  xenMinor: number;
}

export function decodeLibxcDomainHeader(bytes: Uint8Array, at: ErrorLocation = { offset: 0 }): LibxcDomainHeader {
  const loc = { ...at, layer: 'libxc' as const, recordName: 'libxc domain header' };
  if (bytes.length < LIBXC_DOMAIN_HEADER_SIZE)
    throw formatError('TRUNCATED', loc, { relative: bytes.length, expected: `${LIBXC_DOMAIN_HEADER_SIZE} header bytes`, actual: bytes.length });
  const h = domainCodec.decode(bytes);
  if (h.domainType !== DOMAIN_TYPE_X86_PV && h.domainType !== DOMAIN_TYPE_X86_HVM) {
    throw formatError('DOMAIN_TYPE', loc, { expected: '1 (x86 PV) or 2 (x86 HVM)', actual: h.domainType });
  }
  if (h.pageShift !== PAGE_SHIFT) throw formatError('PAGE_SHIFT', loc, { relative: 4, expected: PAGE_SHIFT, actual: h.pageShift });
  return { domainType: h.domainType, pageShift: h.pageShift, reserved: h.reserved, xenMajor: h.xenMajor, xenMinor: h.xenMinor };
}

export function encodeLibxcDomainHeader(h: LibxcDomainHeader): Uint8Array {
  return domainCodec.encode(h);
}
