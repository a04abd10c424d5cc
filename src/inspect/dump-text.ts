/**
 * The text form of `dump`: one aligned line per header or record (offset,
 * layer, index, type, length, decoded fields), detail lines indented under it,
 * the xl JSON config pretty-printed.
 */
import { DOMAIN_TYPE_NAMES, XL_MANDATORY_FLAG_JSON, XL_MANDATORY_FLAG_STREAMV2 } from '../format/constants.js';
import { xlConfigText } from '../codec/headers.js';
import type { Problem, StreamEnd, StreamItem } from '../reader/items.js';
import { recordFields, type FieldOptions } from './record-fields.js';
import { asciiPreview, grouped, hex, offsetHex } from './text-format.js';
import { sexpLines, xmlLines } from './wrapper-text.js';

const INDENT = ' '.repeat(14);

export const TEXT_COLUMNS = `${'OFFSET'.padEnd(12)}${'LAYER'.padEnd(7)}${'#'.padEnd(6)}${'TYPE'.padEnd(31)}${'LENGTH'.padStart(9)}  FIELDS\n`;

function line(offset: number, layer: string, index: string, type: string, length: number, fields: string): string {
  return `${`${offsetHex(offset).padEnd(12)}${layer.padEnd(7)}${index.padEnd(6)}${type.padEnd(31)}${grouped(length).padStart(9)}  ${fields}`.trimEnd()}\n`;
}

function details(lines: readonly string[]): string {
  return lines.map((l) => `${INDENT + l}\n`).join('');
}

function flagNames(flags: number): string {
  const names = [flags & XL_MANDATORY_FLAG_JSON ? 'JSON' : '', flags & XL_MANDATORY_FLAG_STREAMV2 ? 'STREAMv2' : ''].filter(Boolean);
  return names.length ? ` (${names.join('|')})` : '';
}

/** The xl config: JSON pretty-printed (xl already writes it indented; re-indent when it is not), else as text. */
export function configLines(text: string): string[] {
  try {
    return JSON.stringify(JSON.parse(text), null, 2).split('\n');
  } catch {
    return text.replace(/\n$/, '').split('\n');
  }
}

export function renderItemText(item: StreamItem, opts: FieldOptions & { config?: boolean } = {}): string {
  switch (item.kind) {
    case 'xl-header': {
      const h = item.header;
      const text = xlConfigText(h);
      const isJson = (h.mandatoryFlags & XL_MANDATORY_FLAG_JSON) !== 0;
      let out = line(
        item.offset,
        'xl',
        '',
        'xl header',
        item.length,
        `byteorder ${h.byteOrder}, mandatory ${hex(h.mandatoryFlags)}${flagNames(h.mandatoryFlags)}, optional ${hex(h.optionalFlags)}, config ${h.config ? `${grouped(h.config.length)} bytes` : 'none'}${h.optionalTail.length ? `, ${h.optionalTail.length} ignored bytes` : ''}`,
      );
      if (text !== undefined && text.length > 0 && opts.config !== false)
        out += details([`config (${isJson ? 'JSON' : 'xl config text'}):`, ...configLines(text).map((l) => `  ${l}`)]);
      return out;
    }
    case 'libxl-header':
      return line(
        item.offset,
        'libxl',
        '',
        'libxl header',
        item.length,
        `version ${item.header.version}, options ${hex(item.header.options)}${item.header.options & 2 ? ' (legacy-converted)' : ''}`,
      );
    case 'libxc-image-header': {
      const h = item.header;
      const reserved = h.reserved16 || h.reserved32 ? `, reserved ${hex(h.reserved16)}:${hex(h.reserved32)}` : '';
      return line(item.offset, 'libxc', '', 'libxc image header', item.length, `version ${h.version}, options ${hex(h.options)}${reserved}`);
    }
    case 'libxc-domain-header': {
      const h = item.header;
      const xen = h.xenMajor === 0 ? `legacy converter v${h.xenMinor}` : `Xen ${h.xenMajor}.${h.xenMinor}`;
      return line(
        item.offset,
        'libxc',
        '',
        'libxc domain header',
        item.length,
        `type ${h.domainType} (${DOMAIN_TYPE_NAMES[h.domainType] ?? 'reserved'}), page_shift ${h.pageShift}, ${xen}`,
      );
    }
    case 'record': {
      const rec = item.record;
      const f = recordFields(rec, opts);
      const cp = item.checkpoint !== undefined ? `[checkpoint ${item.checkpoint}] ` : '';
      const pad = rec.padding ? ` (non-zero padding ${Buffer.from(rec.padding).toString('hex')})` : '';
      return line(item.offset, item.layer, `#${item.index}`, `${rec.name} (${hex(rec.type)})`, item.bodyLength, cp + f.summary + pad) + details(f.details);
    }
    case 'trailing':
      return line(
        item.offset,
        '',
        '',
        'trailing bytes',
        item.length,
        item.isGoMessage
          ? `xl migrate's go message "${asciiPreview(item.head, 43)}" (a capture of the wire)`
          : `after the final END, starting "${asciiPreview(item.head, 16)}"`,
      );
    case 'container-part': {
      const fields = Object.entries(item.fields)
        .map(([k, v]) => `${k} ${typeof v === 'number' ? grouped(v) : v}`)
        .join(', ');
      let out = line(item.offset, item.wrapper === 'libvirt' ? 'libvirt' : 'xapi', '', item.part, item.length, fields);
      if (item.text !== undefined && opts.config !== false) {
        const xml = item.wrapper === 'libvirt';
        out += details([xml ? 'domain XML:' : 'xenops record (S-expression):', ...(xml ? xmlLines(item.text) : sexpLines(item.text)).map((l) => `  ${l}`)]);
      }
      return out;
    }
  }
}

export function renderEndText(end: StreamEnd, problems: readonly Problem[]): string {
  let out = '\n';
  if (end.status === 'complete')
    out += `end: complete stream, ${sizeLine(end.streamEnd)}${end.trailingBytes ? `, then ${grouped(end.trailingBytes)} trailing bytes` : ''}\n`;
  else
    out += `end: checkpointed stream ended by failover after ${end.completeCheckpoints} complete checkpoint(s) at offset ${offsetHex(end.streamEnd)}; ${end.discardedRecords ?? 0} records (${grouped(end.discardedBytes ?? 0)} bytes) after it are discarded\n`;
  for (const p of problems) out += `${p.severity}: ${p.message}\n`;
  return out;
}

function sizeLine(n: number): string {
  return `${grouped(n)} bytes`;
}
