/**
 * The reader's steps through a wrapper (libvirt's save image header, a
 * XenServer suspend image's signature and sections): each part becomes a
 * `container-part` item holding its bytes, and says what comes next.
 */
import { formatError } from '../../codec/errors.js';
import type { ContainerPartItem } from '../items.js';
import { LIBVIRT_HEADER_SIZE, libvirtXml, readLibvirtHeader } from './libvirt.js';
import { readSectionHeader, XENSERVER_SECTION_HEADER_SIZE, XENSERVER_SECTIONS, XENSERVER_SIGNATURE } from './xenserver.js';
import { textOf } from './fields.js';

/** After a part: the embedded stream (detected, or the given container), another section, or the image's end. */
export type AfterPart = 'stream' | 'libxc' | 'libxl' | 'section' | 'end';

export type WrapperStep = { need: number } | { item: ContainerPartItem; after: AfterPart };

function part(
  wrapper: ContainerPartItem['wrapper'],
  name: string,
  view: Uint8Array,
  offset: number,
  length: number,
  fields: Record<string, number | string>,
  text?: string,
): ContainerPartItem {
  const item: ContainerPartItem = { kind: 'container-part', wrapper, part: name, offset, length, bytes: view.subarray(0, length), fields };
  if (text !== undefined) item.text = text;
  return item;
}

/** libvirt's 64-byte header and the domain XML; the libxl stream follows. */
export function libvirtStep(view: Uint8Array, offset: number, maxXml: number): WrapperStep {
  if (view.length < LIBVIRT_HEADER_SIZE) return { need: LIBVIRT_HEADER_SIZE };
  const h = readLibvirtHeader(view);
  const loc = { offset, recordName: 'libvirt save image header' };
  if (h.version !== 1 && h.version !== 2) {
    throw formatError('LIBVIRT_HEADER', { ...loc, offset: offset + 16 }, { expected: '1 or 2', actual: h.version, detail: `version ${h.version}` });
  }
  if (h.xmlLength === 0 || h.xmlLength > maxXml) {
    throw formatError('LIBVIRT_HEADER', { ...loc, offset: offset + 20 }, { expected: `1 … ${maxXml}`, actual: h.xmlLength, detail: `xmlLen ${h.xmlLength}` });
  }
  const total = LIBVIRT_HEADER_SIZE + h.xmlLength;
  if (view.length < total) return { need: total };
  const fields: Record<string, number | string> = { version: h.version, xmlLen: h.xmlLength };
  if (h.reservedNonZero) fields.unused = 'not zero';
  const xml = libvirtXml(view.subarray(LIBVIRT_HEADER_SIZE, total));
  return { item: part('libvirt', 'libvirt header', view, offset, total, fields, xml), after: 'stream' };
}

export function xenserverSignatureStep(view: Uint8Array, offset: number): WrapperStep {
  const n = XENSERVER_SIGNATURE.length;
  if (view.length < n) return { need: n };
  return { item: part('xenserver', 'XenServer signature', view, offset, n, { signature: 'XenSavedDomv2-' }), after: 'section' };
}

/** One section: its header, and its body unless the body is an embedded stream. */
export function xenserverSectionStep(view: Uint8Array, offset: number, maxLength: number): WrapperStep {
  if (view.length < XENSERVER_SECTION_HEADER_SIZE) return { need: XENSERVER_SECTION_HEADER_SIZE };
  const { type, length } = readSectionHeader(view);
  const loc = { offset, recordName: 'XenServer section header' };
  const kind = type <= 0xffffn ? XENSERVER_SECTIONS.get(Number(type)) : undefined;
  const hexType = `0x${type.toString(16)}`;
  if (!kind) throw formatError('XENSERVER_SECTION', loc, { actual: hexType, detail: `unknown section type ${hexType}` });
  if (kind.body === 'unsupported') {
    throw formatError('XENSERVER_SECTION', loc, {
      actual: hexType,
      detail: `a ${kind.name} section, which this toolkit does not read${kind.name.startsWith('Libxc_legacy') ? " (a pre-Xen-4.6 stream: convert it with Xen's convert-legacy-stream)" : ''}`,
    });
  }
  const fields = { type: `${hexType} (${kind.name})`, length: length.toString() };
  const header = XENSERVER_SECTION_HEADER_SIZE;
  if (kind.body === 'libxc-stream' || kind.body === 'libxl-stream') {
    return { item: part('xenserver', kind.name, view, offset, header, fields), after: kind.body === 'libxc-stream' ? 'libxc' : 'libxl' };
  }
  if (kind.body === 'end') return { item: part('xenserver', kind.name, view, offset, header, fields), after: 'end' };
  if (length > BigInt(maxLength)) {
    throw formatError(
      'XENSERVER_SECTION',
      { ...loc, offset: offset + 8 },
      { expected: `≤ ${maxLength}`, actual: length.toString(), detail: `${kind.name} of ${length} bytes` },
    );
  }
  const total = header + Number(length);
  if (view.length < total) return { need: total };
  const text = kind.text ? textOf(view.subarray(header, total)) : undefined;
  return { item: part('xenserver', kind.name, view, offset, total, fields, text), after: 'section' };
}
