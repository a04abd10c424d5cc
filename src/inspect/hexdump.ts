/**
 * `hexdump`: one header or record as hex, with absolute offsets in the
 * (decompressed) input and its parts marked (record header / body / padding).
 * The bytes come from re-encoding the decoded item, which the codec does
 * losslessly (non-zero padding and reserved bits are kept), so this works on
 * pipes and gzip input too.
 */
import { hexy, type FormatOptions } from 'hexy';
import { encodeItemChunks } from '../codec/json.js';
import { concatBytes } from '../codec/bytes.js';
import { RECORD_HEADER_SIZE, XL_HEADER_SIZE } from '../format/constants.js';
import { XL_HEADER } from '../format/layouts/stream-headers.js';
import { recordTypeTable, type Dialect, type Layer, type RecordTypeInfo } from '../format/record-types.js';

const DIALECTS: readonly Dialect[] = ['upstream', 'postcopy-rfc'];
import { readStream } from '../reader/stream-reader.js';
import type { StreamSource } from '../reader/sources.js';
import type { StreamItem } from '../reader/items.js';
import { InspectArgumentError } from './argument-error.js';
import { encodableItem } from './dump-json.js';
import { renderItemText } from './dump-text.js';
import { grouped, hex, offsetHex } from './text-format.js';
import type { WalkOptions } from './walk-options.js';

export type HexdumpTarget = { record: number } | { offset: number };

export interface HexdumpOptions extends WalkOptions {
  /** Body bytes shown at most (0 = all). Default 4096. */
  maxBytes?: number;
}

const BYTES_PER_LINE = 16;

/**
 * Every hexy option, explicitly: hexy 0.4's defaults differ from its README
 * (e.g. bytesPerGroup 2). Addresses are ours: hexy pads them to 8 hex digits
 * and throws past 4 GiB, and we want absolute offsets anyway.
 */
function hexyOptions(length: number): FormatOptions {
  return {
    bytesPerLine: BYTES_PER_LINE,
    bytesPerGroup: 1,
    showAddress: false,
    littleEndian: false,
    radix: 16,
    caps: 'lower',
    annotate: 'ascii',
    prefix: '',
    indent: 0,
    offset: 0,
    displayOffset: 0,
    length,
    extendedChs: false,
    html: false,
  };
}

/** Hex lines of `bytes`, addressed from `base`. */
export function hexLines(bytes: Uint8Array, base: number): string {
  if (bytes.length === 0) return '';
  // hexy turns a plain Uint8Array into a string: hand it a Buffer view.
  const text = hexy(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), hexyOptions(bytes.length));
  const lines = text.split('\n').filter((l) => l.length > 0);
  // hexy's printable range ends at 0x7f inclusive: DEL would reach the terminal (or the HTML report) raw.
  return `${lines.map((l, i) => `${offsetHex(base + i * BYTES_PER_LINE)}  ${l.trimEnd().replaceAll('\x7f', '.')}`).join('\n')}\n`;
}

interface Segment {
  label: string;
  start: number;
  length: number;
}

/** The type-table row of a decoded record (its name already says which dialect's table). */
function recordInfo(layer: Layer, type: number, name: string): RecordTypeInfo | undefined {
  for (const d of DIALECTS) {
    const info = recordTypeTable(layer, d).lookup(type);
    if (info?.name === name) return info;
  }
  return undefined;
}

function segmentsOf(item: StreamItem): Segment[] {
  if (item.kind === 'record') {
    const segs: Segment[] = [
      { label: `record header: type ${hex(item.record.type)} (${item.record.name}), body_length ${item.bodyLength}`, start: 0, length: RECORD_HEADER_SIZE },
    ];
    // The record-type table's words for it: Xen's own name (rec_type_to_str) and what the body holds.
    const info = recordInfo(item.layer, item.record.type, item.record.name);
    const about = info ? ` — Xen's "${info.cName}": ${info.doc}` : '';
    if (item.bodyLength > 0) segs.push({ label: `body (${grouped(item.bodyLength)} bytes)${about}`, start: RECORD_HEADER_SIZE, length: item.bodyLength });
    const pad = item.length - RECORD_HEADER_SIZE - item.bodyLength;
    if (pad > 0)
      segs.push({ label: `padding (${pad} bytes${item.record.padding ? ', NON-ZERO' : ''})`, start: RECORD_HEADER_SIZE + item.bodyLength, length: pad });
    return segs;
  }
  if (item.kind === 'xl-header') {
    const segs: Segment[] = [{ label: `xl header (${XL_HEADER.fields.map((f) => f.name).join(', ')})`, start: 0, length: XL_HEADER_SIZE }];
    if (item.length > XL_HEADER_SIZE)
      segs.push({
        label: `xl optional data (config_len + config, ${grouped(item.length - XL_HEADER_SIZE)} bytes)`,
        start: XL_HEADER_SIZE,
        length: item.length - XL_HEADER_SIZE,
      });
    return segs;
  }
  if (item.kind === 'trailing')
    return [
      {
        label: `trailing bytes after END (${item.length}${item.head.length < item.length ? `, first ${item.head.length} shown` : ''})`,
        start: 0,
        length: Math.min(item.length, item.head.length),
      },
    ];
  return [{ label: item.kind.replace(/-/g, ' '), start: 0, length: item.length }];
}

function matches(item: StreamItem, target: HexdumpTarget): boolean {
  if ('record' in target) return item.kind === 'record' && item.index === target.record;
  return target.offset >= item.offset && target.offset < item.offset + item.length;
}

/** Find the item (record N, or the header/record holding an offset) and render it. */
export async function hexdumpItem(source: StreamSource, target: HexdumpTarget, options: HexdumpOptions = {}): Promise<string> {
  const reader = readStream(source, options.reader);
  let records = 0;
  let found: StreamItem | undefined;
  for await (const item of reader) {
    options.onProgress?.(item.offset + item.length);
    if (item.kind === 'record') records++;
    if (matches(item, target)) {
      found = item;
      break;
    }
  }
  if (!found) {
    throw new InspectArgumentError(
      'record' in target
        ? `record #${target.record} does not exist: the stream has ${records} records (#0–#${records - 1})`
        : `offset ${target.offset} (${offsetHex(target.offset)}) is past the end of the stream`,
    );
  }
  return renderHexdump(found, options.maxBytes ?? 4096);
}

export function renderHexdump(item: StreamItem, maxBytes: number): string {
  const bytes = concatBytes(encodeItemChunks(encodableItem(item)));
  let out = renderItemText(item, { config: false });
  for (const seg of segmentsOf(item)) {
    const shown = seg.label.startsWith('body') && maxBytes > 0 ? Math.min(seg.length, maxBytes) : seg.length;
    out += `\n-- ${seg.label} at ${offsetHex(item.offset + seg.start)}\n`;
    out += hexLines(bytes.subarray(seg.start, seg.start + shown), item.offset + seg.start);
    if (shown < seg.length) out += `… ${grouped(seg.length - shown)} more bytes of body not shown (--max-bytes 0 shows all)\n`;
  }
  return out;
}
