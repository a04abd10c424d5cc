/**
 * A small, independent walk over a written stream using only the codec's
 * header and record decoders (spec/FORMAT.md §9.5 nesting), so writer tests do not
 * depend on the streaming reader being finished. Checks strict things the
 * writer promises: zero padding, every record decodes, records nest correctly.
 */
import {
  decodeLibxcDomainHeader,
  decodeLibxcImageHeader,
  decodeLibxlHeader,
  decodeXlHeader,
  hasXlMagic,
  type LibxcDomainHeader,
  type LibxcImageHeader,
  type XlHeader,
} from '../../src/codec/headers.js';
import { decodeRecord, type StreamRecord } from '../../src/codec/records.js';
import type { Dialect, Layer } from '../../src/format/record-types.js';

export interface ReadbackRecord {
  layer: Layer;
  name: string;
  offset: number;
  record: StreamRecord;
}

export interface Readback {
  xlHeader?: XlHeader | undefined;
  imageHeader: LibxcImageHeader;
  domainHeader: LibxcDomainHeader;
  records: ReadbackRecord[];
  /** `layer:NAME` → count. */
  counts: Record<string, number>;
  /** How the stream ended: after libxl END, or at a checkpoint boundary (remus/colo). */
  ending: 'end' | 'checkpoint-boundary';
}

export function readBack(bytes: Uint8Array, dialect: Dialect = 'upstream'): Readback {
  let pos = 0;
  let xlHeader: XlHeader | undefined;
  if (hasXlMagic(bytes)) {
    const xl = decodeXlHeader(bytes);
    xlHeader = xl.header;
    pos = xl.length;
  }
  const base = pos; // records are 8-aligned relative to the libxl header
  decodeLibxlHeader(bytes.subarray(pos));
  pos += 16;
  const records: ReadbackRecord[] = [];
  const counts: Record<string, number> = {};
  let imageHeader: LibxcImageHeader | undefined;
  let domainHeader: LibxcDomainHeader | undefined;
  type Where = 'libxl-pre' | 'libxc' | 'libxl-tail' | 'libxl-ckpt' | 'libxl-ckst' | 'libxl-pct' | 'libxl-postpc' | 'done';
  let where: Where = 'libxl-pre';
  let checkpointsComplete = 0;
  let checkpointed = false;
  while (pos < bytes.length) {
    if (where === 'done') throw new Error(`trailing bytes at ${pos}`);
    if ((pos - base) % 8 !== 0) throw new Error(`record at ${pos} is not 8-aligned`);
    const layer: Layer = where === 'libxc' ? 'libxc' : 'libxl';
    const { record, length } = decodeRecord(layer, bytes, pos, { offset: pos }, dialect);
    if (record.padding) throw new Error(`non-zero padding in ${layer} ${record.name} at ${pos}`);
    records.push({ layer, name: record.name, offset: pos, record });
    counts[`${layer}:${record.name}`] = (counts[`${layer}:${record.name}`] ?? 0) + 1;
    pos += length;
    const name = record.name;
    const unexpected = () => new Error(`unexpected ${layer} ${name} at ${pos - length} (in ${where})`);
    switch (where) {
      case 'libxl-pre':
        if (name !== 'LIBXC_CONTEXT') throw unexpected();
        imageHeader = decodeLibxcImageHeader(bytes.subarray(pos));
        domainHeader = decodeLibxcDomainHeader(bytes.subarray(pos + 24));
        pos += 40;
        where = 'libxc';
        break;
      case 'libxc':
        if (name === 'END') where = 'libxl-tail';
        else if (name === 'CHECKPOINT') {
          checkpointed = true;
          where = 'libxl-ckpt';
        } else if (name === 'POSTCOPY_TRANSITION') where = 'libxl-pct';
        break;
      case 'libxl-tail':
      case 'libxl-ckpt':
      case 'libxl-pct':
        if (name === 'EMULATOR_XENSTORE_DATA' || name === 'EMULATOR_CONTEXT') break;
        if (where === 'libxl-tail' && name === 'END') where = 'done';
        else if (where === 'libxl-ckpt' && name === 'CHECKPOINT_END') {
          // COLO streams follow CHECKPOINT_END with CHECKPOINT_STATE; peek at the next type.
          const nextType = pos + 8 <= bytes.length ? new DataView(bytes.buffer, bytes.byteOffset + pos, 8).getUint32(0, true) : -1;
          if (nextType === 5) where = 'libxl-ckst';
          else {
            checkpointsComplete++;
            where = 'libxc';
          }
        } else if (where === 'libxl-pct' && name === 'POSTCOPY_TRANSITION_END') where = 'libxl-postpc-libxc' as Where;
        else throw unexpected();
        if ((where as string) === 'libxl-postpc-libxc') where = 'libxc';
        break;
      case 'libxl-ckst':
        if (name !== 'CHECKPOINT_STATE') throw unexpected();
        checkpointsComplete++;
        where = 'libxc';
        break;
      case 'libxl-postpc':
        throw unexpected();
    }
  }
  if (!imageHeader || !domainHeader) throw new Error('no libxc stream');
  if (where === 'done') return { xlHeader, imageHeader, domainHeader, records, counts, ending: 'end' };
  if (checkpointed && where === 'libxc' && checkpointsComplete > 0 && records[records.length - 1].layer === 'libxl') {
    return { xlHeader, imageHeader, domainHeader, records, counts, ending: 'checkpoint-boundary' };
  }
  throw new Error(`stream ends in ${where}`);
}
