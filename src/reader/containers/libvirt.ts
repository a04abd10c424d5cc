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
import { readFields, startsWithBytes, textOf, type HeaderField } from './fields.js';

/** "libvirt-xml\n \0 \r" */
export const LIBVIRT_SAVE_MAGIC = Uint8Array.from(Buffer.from('libvirt-xml\n \0 \r', 'latin1'));
export const LIBVIRT_HEADER_SIZE = 64;

export const LIBVIRT_HEADER_FIELDS: readonly HeaderField[] = [
  { name: 'version', offset: 16, width: 4 },
  { name: 'xmlLen', offset: 20, width: 4 },
  // unused[10]: 40 bytes, zero as libvirt writes them; kept as they are.
];

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
  const f = readFields(LIBVIRT_HEADER_FIELDS, bytes);
  return {
    version: f.version as number,
    xmlLength: f.xmlLen as number,
    reservedNonZero: bytes.subarray(24, LIBVIRT_HEADER_SIZE).some((b) => b !== 0),
  };
}

/** The domain XML (without its NUL), or undefined when it is not text. */
export const libvirtXml = (xml: Uint8Array) => textOf(xml);
