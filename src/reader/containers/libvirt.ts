/**
 * libvirt's libxl driver save image (virsh save / managedsave of a Xen
 * domain): a 64-byte header, the domain XML, then the libxl stream that
 * libxl_domain_suspend() wrote. From libvirt's src/libxl (libxl_conf.h:
 * LIBXL_SAVE_MAGIC, libxlSavefileHeader; libxl_driver.c: libxlDoDomainSave
 * writes xmlLen = strlen(xml) + 1, the XML with its NUL; libxl_domain.c:
 * libxlDomainSaveImageOpen refuses a version above its own and xmlLen ≤ 0).
 * Version 1: a pre-Xen-4.6 (legacy) libxl stream follows; 2: a v2 stream
 * (LIBXL_HAVE_SRM_V2).
 */
import { layoutCodec } from '../../codec/layout-codec.js';
import { LIBVIRT_SAVE_HEADER } from '../../format/layouts/libvirt-save.js';
import { startsWithBytes, textOf } from './fields.js';

/** "libvirt-xml\n \0 \r" */
export const LIBVIRT_SAVE_MAGIC = Uint8Array.from(Buffer.from('libvirt-xml\n \0 \r', 'latin1'));
export const LIBVIRT_HEADER_SIZE = LIBVIRT_SAVE_HEADER.size;
const header = layoutCodec(LIBVIRT_SAVE_HEADER);

/** The version libvirt writes when a v2 (Xen 4.6+) libxl stream follows. */
export const LIBVIRT_VERSION_STREAM_V2 = 2;

export const hasLibvirtMagic = (head: Uint8Array) => startsWithBytes(head, LIBVIRT_SAVE_MAGIC);

export interface LibvirtHeader {
  version: number;
  xmlLength: number;
  /** The 40 reserved bytes are not all zero. */
  reservedNonZero: boolean;
}

export function readLibvirtHeader(bytes: Uint8Array): LibvirtHeader {
  const h = header.decode(bytes);
  return { version: h.version, xmlLength: h.xmlLen, reservedNonZero: h.unused.some((u) => u !== 0) };
}

/** The domain XML (without its NUL), or undefined when it is not text. */
export const libvirtXml = (xml: Uint8Array) => textOf(xml);
