/**
 * Wrapper images assembled around real saves (fixtures/xen-4.17) at test
 * time, laid out as their writers lay them out: libvirt's libxl driver
 * (libxlDoDomainSave: 64-byte header, the XML with its NUL, then the libxl
 * stream) and xenopsd (domain.ml suspend: signature, Xenops record,
 * Libxc header with length 0 and the libxc stream, Qemu_trad record, End_of_image).
 */
import { readStreamSync, type StreamItem } from '../../src/reader/index.js';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

export const LIBVIRT_XML = `<domain type='xen'>
  <name>hvm128</name>
  <uuid>5c4e2b7a-0d1e-4f3a-9b8c-7d6e5f4a3b2c</uuid>
  <memory unit='KiB'>131072</memory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='xenfv'>hvm</type>
    <loader type='rom'>/usr/lib/xen/boot/hvmloader</loader>
  </os>
  <devices>
    <emulator>/usr/lib/xen/bin/qemu-system-i386</emulator>
  </devices>
</domain>
`;

/** The bare libxl stream of an xl save file (the xl header dropped), as libxl_domain_suspend writes it. */
export function libxlStreamOf(xlSave: Uint8Array): Uint8Array {
  const first = readStreamSync(xlSave, { pageContents: 'skip' })[Symbol.iterator]().next().value as StreamItem;
  if (first.kind !== 'xl-header') throw new Error('not an xl save file');
  return xlSave.subarray(first.length);
}

export function libvirtImage(libxlStream: Uint8Array, xml = LIBVIRT_XML, version = 2): Uint8Array {
  const xmlBytes = Buffer.concat([Buffer.from(xml, 'utf8'), Buffer.from([0])]);
  const header = Buffer.concat([Buffer.from('libvirt-xml\n \0 \r', 'latin1'), u32(version), u32(xmlBytes.length), Buffer.alloc(40)]);
  return new Uint8Array(Buffer.concat([header, xmlBytes, libxlStream]));
}

/** The libxc stream inside a libxl stream (from the libxc image header to the libxc END), and the QEMU state of its EMULATOR_CONTEXT. */
export function libxcPartsOf(save: Uint8Array): { libxc: Uint8Array; qemu?: Uint8Array } {
  let start = -1;
  let end = -1;
  let qemu: Uint8Array | undefined;
  for (const item of readStreamSync(save)) {
    if (item.kind === 'libxc-image-header') start = item.offset;
    if (item.kind === 'record' && item.layer === 'libxc' && item.record.name === 'END') end = item.offset + item.length;
    if (item.kind === 'record' && item.record.body.kind === 'emulator-context') qemu = Uint8Array.from(item.record.body.blob);
  }
  if (start < 0 || end < 0) throw new Error('no libxc stream found');
  return { libxc: save.subarray(start, end), ...(qemu ? { qemu } : {}) };
}

export const XENOPS_SEXP = '((time 20261203T23:00:00Z)(word_size 64)(vm_str "{\\"id\\":\\"hvm128\\"}")(xs_subtree()))';

export function xenServerImage(libxc: Uint8Array, qemu?: Uint8Array, xenops = XENOPS_SEXP): Uint8Array {
  const section = (type: number, body: Uint8Array | Buffer, length = body.length) => Buffer.concat([u64(type), u64(length), body]);
  return new Uint8Array(
    Buffer.concat([
      Buffer.from('XenSavedDomv2-\n', 'latin1'),
      section(0x000f, Buffer.from(xenops, 'utf8')),
      section(0x00f0, Buffer.alloc(0), 0),
      libxc,
      ...(qemu ? [section(0x0f00, qemu)] : []),
      section(0xffff, Buffer.alloc(0), 0),
    ]),
  );
}
