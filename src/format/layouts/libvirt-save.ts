/**
 * libvirt's libxl driver save image header (spec/FORMAT.md §15.2; libvirt
 * src/libxl/libxl_conf.h struct _libxlSavefileHeader): 64 bytes, then the
 * domain XML (xmlLen bytes with its NUL), then the libxl stream.
 */
import { defineLayout } from '../layout.js';

export const LIBVIRT_SAVE_HEADER = defineLayout(
  'libxlSavefileHeader',
  [
    { name: 'magic', type: 'bytes', size: 16, json: 'latin1', text: true, doc: 'LIBXL_SAVE_MAGIC "libvirt-xml\\n \\0 \\r"' },
    { name: 'version', type: 'u32', values: { 1: 'legacy libxl stream', 2: 'libxl stream v2' } },
    { name: 'xmlLen', type: 'u32', unit: 'bytes', doc: 'the domain XML including its terminating NUL' },
    { name: 'unused', type: 'u32', count: 10, doc: 'zero as libvirt writes it; never checked' },
  ],
  { size: 64, doc: 'Written by libxlDoDomainSave, read by libxlDomainSaveImageOpen.' },
);
