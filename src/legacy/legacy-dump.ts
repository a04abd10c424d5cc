/**
 * `dump` of a legacy (pre-Xen-4.6) image: every piece the legacy reader finds,
 * with its offset and length, as text (the columns of the v2 dump) or as JSON
 * objects (ndjson lines, or one document). Page contents are never printed.
 */
import { xlConfigText } from '../codec/headers.js';
import { toHex } from '../codec/bytes.js';
import { pageTypeName } from '../format/page-types.js';
import type { StreamSource } from '../reader/sources.js';
import type { TextSink } from '../inspect/text-sink.js';
import { grouped, hex, offsetHex } from '../inspect/text-format.js';
import { LEGACY_PFN_MASK, LEGACY_TYPE_SHIFT } from './legacy-format.js';
import type { LegacyItem, PageBatchItem } from './legacy-items.js';
import { readLegacy, type LegacyReadOptions } from './legacy-reader.js';

/** Wide enough for the longest chunk name ("chunk -10 hvm_acpi_ioports_location"). */
const TYPE_WIDTH = 38;

export interface LegacyDumpOptions extends LegacyReadOptions {
  format?: 'text' | 'json' | 'ndjson';
  /** List each batch's entries (pfn and type). */
  pages?: boolean;
}

function typeCounts(entries: readonly number[]): string {
  const counts = new Map<string, number>();
  for (const e of entries) {
    const name = pageTypeName(e >>> LEGACY_TYPE_SHIFT);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([n, c]) => `${n}×${c}`).join(' ');
}

function pfnRange(entries: readonly number[]): string {
  if (entries.length === 0) return 'no pfns';
  let lo = Number.MAX_SAFE_INTEGER;
  let hi = 0;
  for (const e of entries) {
    const pfn = e & LEGACY_PFN_MASK;
    lo = Math.min(lo, pfn);
    hi = Math.max(hi, pfn);
  }
  return `pfns ${hex(lo)}–${hex(hi)}`;
}

/** Name and one-line description of an item, for the TYPE and FIELDS columns. */
export function describeLegacyItem(item: LegacyItem): [string, string] {
  switch (item.kind) {
    case 'container': {
      const told = `guest ${item.guest.toUpperCase()}${item.inferred.guest ? '' : ' (given)'}, toolstack ${item.width}-bit${item.inferred.width ? '' : ' (given)'}`;
      if (item.container === 'xl')
        return [
          'xl header (legacy)',
          `mandatory ${hex(item.xlHeader?.mandatoryFlags ?? 0)} (no STREAMv2), config ${item.xlHeader?.config?.length ?? 0} bytes; ${told}`,
        ];
      if (item.container === 'xend') return ['xend header', `LinuxGuestRecord, config ${item.xendConfig?.length ?? 0} bytes; ${told}`];
      return ['libxc legacy image', told];
    }
    case 'p2m-size':
      return ['p2m size', `${grouped(item.p2mSize)} pfns`];
    case 'extended-info':
      return [
        'extended info',
        `${item.blocks.map((b) => `"${b.id}" ${b.size}`).join(', ')}: guest width ${item.guestWidth} (${item.guestWidth * 8}-bit), pt levels ${item.ptLevels}` +
          `${item.extendedContext ? ', extended vCPU contexts' : ''}${item.xsaveSize ? `, xsave ${item.xsaveSize} bytes` : ''}`,
      ];
    case 'p2m-frames':
      return ['p2m frame list', `${item.frames.length} frames`];
    case 'page-batch':
      return ['page batch', `count ${item.entries.length}, ${item.dataPages} pages of data, ${pfnRange(item.entries)}, ${typeCounts(item.entries)}`];
    case 'chunk':
      return [`chunk ${item.id} ${item.name}`, chunkFields(item)];
    case 'body-end':
      return ['chunk 0 end', 'end of the body; the tail follows'];
    case 'unmapped-pfns':
      return ['unmapped pfns', `${item.pfns.length} pfns`];
    case 'vcpu':
      return [
        `vCPU ${item.vcpuId} context`,
        `basic ${item.basic.length}${item.extended ? `, extended ${item.extended.length}` : ''}${item.xsave ? `, xsave ${item.xsave.data.length} (mask ${hex(item.xsave.mask)})` : ''}`,
      ];
    case 'shared-info':
      return ['shared info', '4096 bytes'];
    case 'magic-pfns':
      return ['magic pfns', `ioreq ${hex(item.ioreq)}, bufioreq ${hex(item.bufioreq)}, store ${hex(item.store)}`];
    case 'hvm-context':
      return ['HVM context', `${grouped(item.blob.length)} bytes`];
    case 'qemu':
      return ['QEMU record', `"${item.signature}", ${grouped(item.data.length)} bytes`];
    case 'trailing':
      return ['trailing bytes', 'after the image (a Remus checkpoint?)'];
  }
}

function chunkFields(item: Extract<LegacyItem, { kind: 'chunk' }>): string {
  if (item.param) return `HVM param ${item.param.index} = ${hex(item.param.value)}`;
  if (item.tsc) return `mode ${item.tsc.mode}, ${grouped(item.tsc.khz)} kHz, nsec ${item.tsc.nsec}, incarnation ${item.tsc.incarnation}`;
  if (item.vcpuInfo) return `max vCPU id ${item.vcpuInfo.maxVcpuId}, online ${item.vcpuInfo.online.join(',')}`;
  if (item.data) return `${item.data.length} bytes`;
  return '';
}

/** The JSON form of an item: its fields, bytes as hex (page contents and big blobs as their length only). */
export function legacyItemJson(item: LegacyItem): object {
  const [type, summary] = describeLegacyItem(item);
  const base = { kind: item.kind, offset: item.offset, length: item.length, type, summary };
  switch (item.kind) {
    case 'container':
      return {
        ...base,
        container: item.container,
        guest: item.guest,
        width: item.width,
        inferred: item.inferred,
        ...(item.xlHeader ? { config: xlConfigText(item.xlHeader) } : {}),
      };
    case 'page-batch':
      return { ...base, entries: item.entries.map((e) => ({ pfn: e & LEGACY_PFN_MASK, type: pageTypeName(e >>> LEGACY_TYPE_SHIFT) })) };
    case 'chunk':
      return {
        ...base,
        id: item.id,
        name: item.name,
        ...(item.param ? { param: { index: item.param.index, value: String(item.param.value) } } : {}),
        ...(item.tsc ? { tsc: { ...item.tsc, nsec: String(item.tsc.nsec) } } : {}),
        ...(item.vcpuInfo ? { vcpuInfo: item.vcpuInfo } : {}),
        ...(item.data ? { data: toHex(item.data) } : {}),
      };
    case 'p2m-frames':
      return { ...base, frames: item.frames.map(String) };
    case 'magic-pfns':
      return { ...base, ioreq: String(item.ioreq), bufioreq: String(item.bufioreq), store: String(item.store) };
    default:
      return base;
  }
}

function batchPages(item: PageBatchItem): string {
  return item.entries.map((e) => `              ${hex(e & LEGACY_PFN_MASK)} ${pageTypeName(e >>> LEGACY_TYPE_SHIFT)}\n`).join('');
}

/** Dump a legacy image into `sink`; returns the number of items. */
export async function dumpLegacy(source: StreamSource, sink: TextSink, options: LegacyDumpOptions = {}): Promise<number> {
  const format = options.format ?? 'text';
  let n = 0;
  if (format === 'text') await sink.write(`${'OFFSET'.padEnd(12)}${'LAYER'.padEnd(7)}${'TYPE'.padEnd(TYPE_WIDTH)}${'LENGTH'.padStart(11)}  FIELDS\n`);
  if (format === 'json') await sink.write('{"legacy":true,"items":[');
  for await (const item of readLegacy(source, options)) {
    if (format === 'text') {
      const [type, fields] = describeLegacyItem(item);
      await sink.write(`${offsetHex(item.offset).padEnd(12)}${'legacy'.padEnd(7)}${type.padEnd(TYPE_WIDTH)}${grouped(item.length).padStart(11)}  ${fields}\n`);
      if (options.pages && item.kind === 'page-batch') await sink.write(batchPages(item));
    } else {
      await sink.write(`${format === 'json' && n > 0 ? ',' : ''}${JSON.stringify(legacyItemJson(item))}${format === 'ndjson' ? '\n' : ''}`);
    }
    n++;
  }
  if (format === 'json') await sink.write(']}\n');
  await sink.flush();
  return n;
}
