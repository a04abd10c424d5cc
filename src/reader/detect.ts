/** Container detection from the first bytes of the input, and honest refusals of what is none. */
import { hasLibxcMarker, hasLibxlIdent, hasXlMagic } from '../codec/headers.js';
import { LIBXL_IDENT_BYTES, XL_MAGIC } from '../format/constants.js';
import { compressionOf } from '../io/compression/index.js';
import { hasLibvirtMagic, LIBVIRT_SAVE_MAGIC } from './containers/libvirt.js';
import { hasXenServerSignature, XENSERVER_LEGACY_SIGNATURE, XENSERVER_SIGNATURE } from './containers/xenserver.js';
import { describeLegacyImage } from '../legacy/legacy-layout.js';
import type { Container } from './items.js';

/** Bytes detection wants to see (fewer is fine at EOF). */
export const DETECT_BYTES = 32;

export type Detection = { container: Container } | { container: undefined; looksLike: string };

/** A wrapper around a migration stream: libvirt's libxl save image, XenServer's suspend image. */
export type Wrapper = 'libvirt' | 'xenserver';

/** The bare stream containers (what a migration sends and `xl restore` reads). */
export function detectContainer(head: Uint8Array): Detection {
  if (hasXlMagic(head)) return { container: 'xl' };
  if (hasLibxlIdent(head)) return { container: 'libxl' };
  if (hasLibxcMarker(head)) return { container: 'libxc' };
  return { container: undefined, looksLike: describeForeign(head) };
}

/** A wrapper image's magic (checked before detectContainer by the reader). */
export function detectWrapper(head: Uint8Array): Wrapper | undefined {
  if (hasLibvirtMagic(head)) return 'libvirt';
  if (hasXenServerSignature(head)) return 'xenserver';
  return undefined;
}

const LIBXC_SIGNATURE = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x58, 0x45, 0x4e, 0x46]);
const SIGNATURES: readonly Uint8Array[] = [XL_MAGIC, LIBXL_IDENT_BYTES, LIBXC_SIGNATURE, LIBVIRT_SAVE_MAGIC, XENSERVER_SIGNATURE];

const isPrefixOf = (head: Uint8Array, sig: Uint8Array) => head.length < sig.length && head.every((b, i) => b === sig[i]);

/**
 * Detect as soon as the bytes allow: a bare libxl stream after 8 bytes, a libxc
 * one after 12, an xl file after 32. Asks for more only while the bytes are
 * still a prefix of some container's signature.
 */
export function detectOrNeed(head: Uint8Array): Detection | { wrapper: Wrapper } | { need: number } {
  const wrapper = detectWrapper(head);
  if (wrapper) return { wrapper };
  const d = detectContainer(head);
  if (d.container) return d;
  const candidates = SIGNATURES.filter((sig) => isPrefixOf(head, sig));
  if (candidates.length > 0) return { need: Math.min(...candidates.map((s) => s.length)) };
  return d;
}

const ascii = (u8: Uint8Array, n: number) => Buffer.from(u8.buffer, u8.byteOffset, Math.min(n, u8.length)).toString('latin1');
const u32 = (u8: Uint8Array, at: number) => (u8.length >= at + 4 ? Buffer.from(u8.buffer, u8.byteOffset, u8.length).readUInt32LE(at) : -1);

/**
 * Legacy (pre-Xen-4.6) images. The hook for a legacy reader/converter: it
 * replaces this with its own detection (and the reader then reads or converts
 * what is recognised here instead of refusing it).
 */
export function describeLegacy(head: Uint8Array): string | undefined {
  if (ascii(head, 16) === 'LinuxGuestRecord') return 'a legacy (pre-v2) xend/libxc save image: convert it with `stream-inspect convert-legacy`';
  if (ascii(head, 15) === ascii(XENSERVER_LEGACY_SIGNATURE, 15))
    return "a XenServer suspend image of the legacy kind (a pre-Xen-4.5 libxc stream): xenopsd converts it with Xen's convert-legacy-stream on restore";
  return undefined;
}

/** Something that is a known kind of file, but no migration stream: what it is, and what to try. */
function describeOtherFormat(head: Uint8Array): string | undefined {
  const packed = compressionOf(head);
  if (packed) return `${packed.name}-compressed data inside the (already decompressed) input: it was compressed twice; decompress it once by hand first`;
  if (ascii(head, 27) === 'Xen saved domain, xl format') return 'an xl save file with a damaged magic';
  if (ascii(head, 4) === 'QEVM')
    return "a QEMU migration/savevm stream (QEMU's own format, e.g. an EMULATOR_CONTEXT blob on its own or `migrate exec:cat>FILE`), not a Xen stream";
  if (ascii(head, 22) === 'QemuDeviceModelRecord\n' || ascii(head, 21) === 'DeviceModelRecord0002')
    return 'a QEMU-traditional device-model record (the HVM device state a Xen toolstack saves beside the memory stream), not a Xen stream';
  if (head[0] === 0x7f && ascii(head.subarray(1), 3) === 'ELF')
    return 'an ELF file (an `xl dump-core` image or a kernel): a core image is read by crash or gdb, not as a migration stream';
  if (ascii(head, 8) === 'LibxlFm' || ascii(head, 4) === 'Libx') return 'a libxl stream with a damaged ident';
  if (ascii(head, 11) === 'libvirt-xml') return 'a libvirt save image with a damaged magic';
  if (ascii(head, 14) === 'XenSavedDomv2-') return 'a XenServer suspend image with a damaged signature';
  return describeBackChannel(head);
}

/**
 * A capture of the back channel (the receiver's replies), which starts with a
 * bare record: COLO's first reply is libxl CHECKPOINT_STATE (type 5, length 4)
 * with SVM_READY (2); postcopy's is libxc POSTCOPY_FAULT (0x15) or _COMPLETE (0x16).
 */
function describeBackChannel(head: Uint8Array): string | undefined {
  const type = u32(head, 0);
  const length = u32(head, 4);
  if (type === 0x5 && length === 4 && u32(head, 8) >= 1 && u32(head, 8) <= 3)
    return "a COLO back-channel capture (the secondary's CHECKPOINT_STATE replies), not the forward stream: read it with `stream-inspect dump --channel colo` (the library's readBackChannel)";
  if ((type === 0x15 || type === 0x16) && length >= 0 && length % 8 === 0 && length < 1 << 20)
    return "a postcopy back-channel capture (POSTCOPY_FAULT / POSTCOPY_COMPLETE from the destination), not the forward stream: read it with `stream-inspect dump --channel postcopy` (the library's readBackChannel)";
  return undefined;
}

/** What a non-v2 input looks like, for the error message. */
function describeForeign(head: Uint8Array): string {
  if (head.length === 0) return 'an empty input';
  const known = describeLegacyImage(head) ?? describeLegacy(head) ?? describeOtherFormat(head);
  if (known) return known;
  if (head.length >= 8 && head.subarray(0, 8).every((b) => b === 0xff)) return 'a libxc image with a damaged id';
  if (head.length >= 12 && ascii(head.subarray(8), 4) === 'XENF') return 'a libxc image with a damaged marker';
  if (head.every((b) => b === 0)) return 'all zero bytes';
  if (head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) return describeText(ascii(head, DETECT_BYTES));
  // A legacy libxc image starts with its p2m size, a small u64 (so some of its first 8 bytes are zero).
  return 'unknown binary data (a legacy pre-v2 image, or not a migration stream)';
}

function describeText(text: string): string {
  const t = text.trimStart();
  if (t.startsWith('{"format":"xen-migration-stream') || t.startsWith('{"format"'))
    return 'a JSON dump of a stream (dump --format json): turn it back into bytes with `stream-inspect encode`';
  if (t.startsWith('<domain')) return 'a libvirt domain XML document, not a save image';
  return `text (${JSON.stringify(text.slice(0, 24))}…)`;
}
