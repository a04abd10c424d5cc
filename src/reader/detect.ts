/** Container detection from the first bytes of the input. */
import { hasLibxcMarker, hasLibxlIdent, hasXlMagic } from '../codec/headers.js';
import { LIBXL_IDENT_BYTES, XL_MAGIC } from '../format/constants.js';
import { describeLegacyImage } from '../legacy/legacy-layout.js';
import type { Container } from './items.js';

/** Bytes detection wants to see (fewer is fine at EOF). */
export const DETECT_BYTES = 32;

export type Detection = { container: Container } | { container: undefined; looksLike: string };

export function detectContainer(head: Uint8Array): Detection {
  if (hasXlMagic(head)) return { container: 'xl' };
  if (hasLibxlIdent(head)) return { container: 'libxl' };
  if (hasLibxcMarker(head)) return { container: 'libxc' };
  return { container: undefined, looksLike: describeForeign(head) };
}

const LIBXC_SIGNATURE = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x58, 0x45, 0x4e, 0x46]);
const SIGNATURES: readonly Uint8Array[] = [XL_MAGIC, LIBXL_IDENT_BYTES, LIBXC_SIGNATURE];

const isPrefixOf = (head: Uint8Array, sig: Uint8Array) => head.length < sig.length && head.every((b, i) => b === sig[i]);

/**
 * Detect as soon as the bytes allow: a bare libxl stream after 8 bytes, a libxc
 * one after 12, an xl file after 32. Asks for more only while the bytes are
 * still a prefix of some container's signature.
 */
export function detectOrNeed(head: Uint8Array): Detection | { need: number } {
  const d = detectContainer(head);
  if (d.container) return d;
  const candidates = SIGNATURES.filter((sig) => isPrefixOf(head, sig));
  if (candidates.length > 0) return { need: Math.min(...candidates.map((s) => s.length)) };
  return d;
}

const ascii = (u8: Uint8Array, n: number) => Buffer.from(u8.buffer, u8.byteOffset, Math.min(n, u8.length)).toString('latin1');

/** What a non-v2 input looks like, for the error message. */
function describeForeign(head: Uint8Array): string {
  if (head.length === 0) return 'an empty input';
  const legacy = describeLegacyImage(head);
  if (legacy) return legacy;
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip-compressed data that could not be decompressed';
  if (ascii(head, 27) === 'Xen saved domain, xl format') return 'an xl save file with a damaged magic';
  if (ascii(head, 16) === 'LinuxGuestRecord') return 'a legacy (pre-v2) xend/libxc save image';
  if (ascii(head, 4) === 'QEVM') return 'a QEMU savevm stream (an EMULATOR_CONTEXT blob on its own)';
  if (head[0] === 0x7f && ascii(head.subarray(1), 3) === 'ELF') return 'an ELF file (e.g. an xl dump-core image)';
  if (ascii(head, 8) === 'LibxlFm' || ascii(head, 4) === 'Libx') return 'a libxl stream with a damaged ident';
  if (head.length >= 8 && head.subarray(0, 8).every((b) => b === 0xff)) return 'a libxc image with a damaged id';
  if (head.length >= 8 && !head.subarray(0, 8).every((b) => b === 0xff) && head.length >= 12 && ascii(head.subarray(8), 4) === 'XENF') {
    return 'a libxc image with a damaged marker';
  }
  if (head.every((b) => b === 0)) return 'all zero bytes';
  if (head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) return `text (${JSON.stringify(ascii(head, 24))}…)`;
  // A legacy libxc image starts with its p2m size, a small u64 (so some of its first 8 bytes are zero).
  return 'unknown binary data (a legacy pre-v2 image, or not a migration stream)';
}
