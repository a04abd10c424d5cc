/**
 * XenServer / XCP-ng (xapi's xenopsd) suspend image, from xenopsd's
 * lib/suspend_image.ml and xc/domain.ml: the signature "XenSavedDomv2-\n",
 * then sections, each a 16-byte header (u64 type, u64 length, little-endian)
 * and its body: the Xenops record (an S-expression: time, word_size, vm_str,
 * xs_subtree), the libxc stream (length written as 0: the stream's own END
 * ends it), QEMU's device state (Qemu_trad, length = its size), varstored's
 * UEFI variables, and End_of_image (length 0). A vGPU (Demu) stream goes to a
 * separate fd; a Libxc_legacy section holds a pre-4.6 stream.
 */
import { layoutCodec } from '../../codec/layout-codec.js';
import { XENSERVER_SECTION_HEADER } from '../../format/layouts/xenserver-suspend.js';
import { startsWithBytes } from './fields.js';

export const XENSERVER_SIGNATURE = Uint8Array.from(Buffer.from('XenSavedDomv2-\n', 'latin1'));
/** xenopsd's older images ("Legacy" in suspend_image.ml): a legacy libxc stream, converted on restore. */
export const XENSERVER_LEGACY_SIGNATURE = Uint8Array.from(Buffer.from('XenSavedDomain\n', 'latin1'));
export const XENSERVER_SECTION_HEADER_SIZE = XENSERVER_SECTION_HEADER.size;
const sectionHeader = layoutCodec(XENSERVER_SECTION_HEADER);

export interface SectionType {
  readonly name: string;
  /** What follows the header: `length` bytes of its own, or an embedded migration stream (length 0). */
  readonly body: 'sized' | 'libxc-stream' | 'libxl-stream' | 'end' | 'unsupported';
  readonly text?: boolean;
}

/** suspend_image.ml's header_type_of_int64. */
export const XENSERVER_SECTIONS: ReadonlyMap<number, SectionType> = new Map([
  [0x000f, { name: 'Xenops record', body: 'sized', text: true }],
  [0x00f0, { name: 'Libxc stream', body: 'libxc-stream' }],
  [0x00f1, { name: 'Libxl stream', body: 'libxl-stream' }],
  [0x00f2, { name: 'Libxc_legacy stream', body: 'unsupported' }],
  [0x0f00, { name: 'Qemu_trad record', body: 'sized' }],
  [0x0f01, { name: 'Qemu_xen record', body: 'sized' }],
  [0x0f10, { name: 'Demu (vGPU) stream', body: 'unsupported' }],
  [0x0f11, { name: 'Varstored record', body: 'sized' }],
  [0xffff, { name: 'End_of_image', body: 'end' }],
]);

export const hasXenServerSignature = (head: Uint8Array) => startsWithBytes(head, XENSERVER_SIGNATURE);

export function readSectionHeader(bytes: Uint8Array): { type: bigint; length: bigint } {
  return sectionHeader.decode(bytes);
}
